import { describe, expect, it } from "vitest";
import {
  IntakeStats,
  InvalidEventError,
  parseReconnectEvent,
  UnknownEventTypeError,
} from "../../../lib/events/index.ts";
import { deviceReconnected, ec2StateChange } from "../../fixtures/events/factory.ts";

function intake(stats: IntakeStats, raw: unknown): void {
  try {
    stats.recordResult(parseReconnectEvent(raw));
  } catch (error) {
    stats.recordError(error);
  }
}

describe("IntakeStats", () => {
  it("counts accepted by event type, ignored by reason, rejected by error class", () => {
    const stats = new IntakeStats();
    intake(stats, ec2StateChange());
    intake(stats, ec2StateChange({ detail: { state: "stopped" } }));
    intake(stats, ec2StateChange({ detail: { state: "pending" } }));
    intake(stats, deviceReconnected());
    intake(stats, deviceReconnected());
    intake(stats, null);
    intake(stats, { ...ec2StateChange(), "detail-type": "AWS API Call via CloudTrail" });

    expect(stats.snapshot()).toEqual({
      accepted: { total: 3, byReason: { EC2_STATE_CHANGE: 1, DEVICE_RECONNECTED: 2 } },
      ignored: { total: 2, byReason: { EC2_STATE_NOT_RUNNING: 2 } },
      rejected: { total: 2, byReason: { INVALID_EVENT: 1, UNKNOWN_EVENT_TYPE: 1 } },
    });
    expect(stats.count("accepted", "DEVICE_RECONNECTED")).toBe(2);
    expect(stats.count("ignored", "UNMANAGED_INSTANCE")).toBe(0);
  });

  it("lists its counters as metrics, sorted, and resets", () => {
    const stats = new IntakeStats();
    stats.recordRejected("INVALID_EVENT");
    stats.recordAccepted("EC2_STATE_CHANGE");
    stats.recordIgnored("UNMANAGED_INSTANCE");
    stats.recordAccepted("DEVICE_RECONNECTED");
    expect(stats.metrics()).toEqual([
      { outcome: "accepted", reason: "DEVICE_RECONNECTED", count: 1 },
      { outcome: "accepted", reason: "EC2_STATE_CHANGE", count: 1 },
      { outcome: "ignored", reason: "UNMANAGED_INSTANCE", count: 1 },
      { outcome: "rejected", reason: "INVALID_EVENT", count: 1 },
    ]);
    stats.reset();
    expect(stats.metrics()).toEqual([]);
    expect(stats.count("accepted")).toBe(0);
  });

  it("decides the reject reason by class, not message", () => {
    const stats = new IntakeStats();
    expect(stats.recordError(new UnknownEventTypeError("X", undefined, []))).toBe(
      "UNKNOWN_EVENT_TYPE",
    );
    expect(stats.recordError(new InvalidEventError([{ path: "id", problem: "p" }], "e"))).toBe(
      "INVALID_EVENT",
    );
    expect(stats.recordError(new Error("Invalid event: looks like one"))).toBe("INTERNAL");
  });
});
