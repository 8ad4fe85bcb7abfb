import { describe, expect, it } from "vitest";
import {
  DeviceReconnectedEventSchema,
  deviceReconnectedEvent,
  Ec2StateChangeEventSchema,
  eventTypeOf,
  parseReconnectEvent,
  SOURCE_OF,
} from "../../../lib/events/index.ts";
import { deviceReconnected, ec2StateChange } from "../../fixtures/events/factory.ts";

describe("detail-types", () => {
  it("maps each detail-type string back to its key", () => {
    expect(eventTypeOf("EC2 Instance State-change Notification")).toBe("EC2_STATE_CHANGE");
    expect(eventTypeOf("Device Reconnected")).toBe("DEVICE_RECONNECTED");
    expect(eventTypeOf("device reconnected")).toBeUndefined();
    expect(eventTypeOf("toString")).toBeUndefined();
    expect(SOURCE_OF).toEqual({ EC2_STATE_CHANGE: "aws.ec2", DEVICE_RECONNECTED: "keyheal" });
  });
});

describe("fixture factory", () => {
  it("builds events the schemas accept, with overrides merged into detail", () => {
    const ec2 = ec2StateChange({ detail: { state: "stopped" } });
    expect(Ec2StateChangeEventSchema.parse(ec2)).toEqual(ec2);
    expect(ec2.detail).toEqual({ "instance-id": "i-0123456789abcdef0", state: "stopped" });
    const device = deviceReconnected({ detail: { reason: "manual" } });
    expect(DeviceReconnectedEventSchema.parse(device)).toEqual(device);
  });

  it("refuses overrides that make an invalid event", () => {
    expect(() => ec2StateChange({ detail: { "instance-id": "i-nothex!" } })).toThrow();
    expect(() => deviceReconnected({ detail: { deviceId: "has space" } })).toThrow();
  });

  it("gives each event its own id", () => {
    expect(ec2StateChange().id).not.toBe(ec2StateChange().id);
  });
});

describe("deviceReconnectedEvent", () => {
  it("builds a Device Reconnected event that intake accepts", () => {
    const event = deviceReconnectedEvent({
      deviceId: "edge-1",
      id: "evt-1",
      time: "2025-03-04T05:06:07Z",
    });
    expect(event).toMatchObject({ source: "keyheal", "detail-type": "Device Reconnected" });
    expect(parseReconnectEvent(event)).toEqual({
      kind: "reconnect",
      eventType: "DEVICE_RECONNECTED",
      deviceRef: { deviceId: "edge-1" },
      eventId: "evt-1",
      occurredAt: "2025-03-04T05:06:07.000Z",
    });
  });

  it("fills a fresh id and the current time", () => {
    const a = deviceReconnectedEvent({ deviceId: "edge-1" });
    const b = deviceReconnectedEvent({ deviceId: "edge-1" });
    expect(a.id).not.toBe(b.id);
    expect(Date.parse(a.time)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses a bad device id", () => {
    expect(() => deviceReconnectedEvent({ deviceId: "a b" })).toThrow(/deviceId/);
  });
});
