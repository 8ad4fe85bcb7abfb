import { describe, expect, it } from "vitest";
import {
  DETAIL_TYPES,
  EC2_INSTANCE_STATES,
  InvalidEventError,
  parseReconnectEvent,
  UnknownEventTypeError,
} from "../../../lib/events/index.ts";
import { deviceReconnected, ec2StateChange, mutable } from "../../fixtures/events/factory.ts";

/** Parses, expects an InvalidEventError (or subclass), and returns it. */
function rejection(raw: unknown): InvalidEventError {
  try {
    parseReconnectEvent(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return error as InvalidEventError;
  }
  throw new Error("expected the event to be rejected");
}

describe("parseReconnectEvent: valid events", () => {
  it("an EC2 instance that is now running starts a reconnect for that instance", () => {
    const event = ec2StateChange({ region: "us-east-2", detail: { "instance-id": "i-0abc12345" } });
    expect(parseReconnectEvent(event)).toEqual({
      kind: "reconnect",
      eventType: "EC2_STATE_CHANGE",
      deviceRef: { instanceId: "i-0abc12345", region: "us-east-2" },
      eventId: event.id,
      occurredAt: "2025-06-01T12:00:00.000Z",
    });
  });

  it("a Device Reconnected event starts a reconnect for the device, at observedAt", () => {
    const event = deviceReconnected({
      detail: {
        deviceId: "rack-7:sw.01",
        reason: "probe up",
        observedAt: "2025-06-01T13:00:00+02:00",
      },
    });
    expect(parseReconnectEvent(event)).toEqual({
      kind: "reconnect",
      eventType: "DEVICE_RECONNECTED",
      deviceRef: { deviceId: "rack-7:sw.01" },
      eventId: event.id,
      occurredAt: "2025-06-01T11:00:00.000Z",
      reason: "probe up",
    });
  });

  it("a Device Reconnected event without observedAt occurred at the event time", () => {
    const result = parseReconnectEvent(deviceReconnected({ time: "2025-01-02T03:04:05Z" }));
    expect(result).toMatchObject({ kind: "reconnect", occurredAt: "2025-01-02T03:04:05.000Z" });
  });

  it("accepts the old 8-digit instance id form and unknown extra fields", () => {
    const event: Record<string, unknown> = { ...mutable(ec2StateChange()), "replay-name": "r1" };
    (event.detail as Record<string, unknown>)["instance-id"] = "i-1234abcd";
    (event.detail as Record<string, unknown>).extra = { anything: true };
    expect(parseReconnectEvent(event)).toMatchObject({
      kind: "reconnect",
      deviceRef: { instanceId: "i-1234abcd" },
    });
  });

  it.each(EC2_INSTANCE_STATES.filter((state) => state !== "running"))(
    "an EC2 instance that is %s is ignored",
    (state) => {
      const result = parseReconnectEvent(ec2StateChange({ detail: { state } }));
      expect(result).toMatchObject({ kind: "ignored", reason: "EC2_STATE_NOT_RUNNING" });
      expect(result.kind === "ignored" && result.message).toContain(state);
    },
  );

  it("an instance keyheal does not manage is ignored", () => {
    const seen: string[] = [];
    const isManagedInstance = (instanceId: string, region: string) => {
      seen.push(`${region}/${instanceId}`);
      return false;
    };
    const event = ec2StateChange({ detail: { "instance-id": "i-00000000000000001" } });
    expect(parseReconnectEvent(event, { isManagedInstance })).toMatchObject({
      kind: "ignored",
      reason: "UNMANAGED_INSTANCE",
      eventId: event.id,
    });
    expect(seen).toEqual(["eu-west-1/i-00000000000000001"]);
  });

  it("a managed running instance is a reconnect", () => {
    const result = parseReconnectEvent(ec2StateChange(), { isManagedInstance: () => true });
    expect(result.kind).toBe("reconnect");
  });

  it("the managed-instance check is not consulted for Device Reconnected events", () => {
    const result = parseReconnectEvent(deviceReconnected(), { isManagedInstance: () => false });
    expect(result.kind).toBe("reconnect");
  });
});

describe("parseReconnectEvent: malformed events name the bad field", () => {
  const cases: [string, () => unknown, string][] = [
    [
      "missing id",
      () => {
        const e = mutable(ec2StateChange());
        delete e.id;
        return e;
      },
      "id",
    ],
    ["empty id", () => ({ ...mutable(deviceReconnected()), id: "" }), "id"],
    ["missing time", () => ({ ...mutable(ec2StateChange()), time: undefined }), "time"],
    ["time not ISO", () => ({ ...mutable(ec2StateChange()), time: "yesterday" }), "time"],
    [
      "resources not an array",
      () => ({ ...mutable(ec2StateChange()), resources: "x" }),
      "resources",
    ],
    [
      "too many resources",
      () => ({ ...mutable(ec2StateChange()), resources: Array.from({ length: 257 }, () => "arn") }),
      "resources",
    ],
    [
      "a resource not a string",
      () => ({ ...mutable(ec2StateChange()), resources: ["a", 7] }),
      "resources[1]",
    ],
    ["bad instance id", () => ec2With({ "instance-id": "i-XYZ" }), "detail.instance-id"],
    ["instance id too short", () => ec2With({ "instance-id": "i-1234567" }), "detail.instance-id"],
    [
      "instance id too long",
      () => ec2With({ "instance-id": `i-${"a".repeat(18)}` }),
      "detail.instance-id",
    ],
    ["instance id not a string", () => ec2With({ "instance-id": 42 }), "detail.instance-id"],
    ["state missing", () => ec2With({ state: undefined }), "detail.state"],
    ["state unknown", () => ec2With({ state: "hibernating" }), "detail.state"],
    ["deviceId with spaces", () => deviceWith({ deviceId: "edge router" }), "detail.deviceId"],
    ["deviceId too long", () => deviceWith({ deviceId: "d".repeat(129) }), "detail.deviceId"],
    ["deviceId empty", () => deviceWith({ deviceId: "" }), "detail.deviceId"],
    ["deviceId with a slash", () => deviceWith({ deviceId: "../etc" }), "detail.deviceId"],
    ["deviceId missing", () => deviceWith({ deviceId: undefined }), "detail.deviceId"],
    ["observedAt not ISO", () => deviceWith({ observedAt: "now" }), "detail.observedAt"],
    ["reason not a string", () => deviceWith({ reason: { nested: [1, 2, 3] } }), "detail.reason"],
    ["detail a string", () => ({ ...mutable(ec2StateChange()), detail: "running" }), "detail"],
    ["detail an array", () => ({ ...mutable(deviceReconnected()), detail: ["x"] }), "detail"],
    ["detail null", () => ({ ...mutable(deviceReconnected()), detail: null }), "detail"],
    [
      "EC2 detail-type from a custom source",
      () => ({ ...mutable(ec2StateChange()), source: "keyheal" }),
      "source",
    ],
    [
      "Device Reconnected from a foreign source",
      () => ({ ...mutable(deviceReconnected()), source: "aws.ec2" }),
      "source",
    ],
    [
      "detail-type missing",
      () => ({ ...mutable(ec2StateChange()), "detail-type": undefined }),
      "detail-type",
    ],
    [
      "detail-type not a string",
      () => ({ ...mutable(ec2StateChange()), "detail-type": 5 }),
      "detail-type",
    ],
  ];

  it.each(cases)("%s → %s", (_name, build, field) => {
    const error = rejection(build());
    expect(error).not.toBeInstanceOf(UnknownEventTypeError);
    expect(error.fields).toContain(field);
    expect(error.issues.some((issue) => issue.startsWith(`${field}: `))).toBe(true);
    expect(error.message).toContain(field);
    expect(error.message).toMatch(/Expected /);
  });

  it("reports every bad field at once", () => {
    const event = mutable(ec2StateChange());
    delete event.id;
    event.detail = { "instance-id": "nope" };
    const error = rejection(event);
    expect(error.fields).toEqual(["id", "detail.instance-id", "detail.state"]);
  });

  it("says what shape it expected for the event type", () => {
    const error = rejection(ec2With({ state: 1 }));
    expect(error.detailType).toBe(DETAIL_TYPES.EC2_STATE_CHANGE);
    expect(error.message).toContain('"instance-id"');
    expect(error.message).toContain('"running"');
    expect(error.expected).toContain('source: "aws.ec2"');
  });

  it("does not echo a huge field value into the message", () => {
    const error = rejection(deviceWith({ deviceId: "x ".repeat(100_000) }));
    expect(error.message.length).toBeLessThan(2_000);
  });
});

describe("parseReconnectEvent: unknown detail-type", () => {
  it.each(["EC2 Spot Instance Interruption Warning", "ec2 instance state-change notification", ""])(
    "%j is an UnknownEventTypeError naming the known types",
    (detailType) => {
      const event = { ...mutable(ec2StateChange()), "detail-type": detailType };
      const error = rejection(event);
      expect(error).toBeInstanceOf(UnknownEventTypeError);
      expect(error.fields).toEqual(["detail-type"]);
      expect((error as UnknownEventTypeError).detailType).toBe(detailType);
      expect((error as UnknownEventTypeError).source).toBe("aws.ec2");
      expect(error.message).toContain(DETAIL_TYPES.DEVICE_RECONNECTED);
    },
  );

  it("cuts a huge unknown detail-type short in the message", () => {
    const error = rejection({ "detail-type": "z".repeat(50_000) });
    expect(error).toBeInstanceOf(UnknownEventTypeError);
    expect(error.message.length).toBeLessThan(500);
  });
});

describe("parseReconnectEvent: garbage is always a typed error", () => {
  const circular: Record<string, unknown> = { "detail-type": DETAIL_TYPES.DEVICE_RECONNECTED };
  circular.detail = circular;
  const hostileGetter = Object.defineProperty({}, "detail-type", {
    enumerable: true,
    get() {
      throw new Error("boom");
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  const garbage: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["a string", '{"detail-type":"Device Reconnected"}'],
    ["a number", 42],
    ["a boolean", true],
    ["a bigint", 10n],
    ["a symbol", Symbol("x")],
    ["a function", () => 1],
    ["an array", [ec2StateChange()]],
    ["an empty object", {}],
    ["a Date", new Date()],
    ["nested garbage", { detail: { detail: { detail: [null, { "instance-id": {} }] } } }],
    ["a circular event", circular],
    ["a throwing getter", hostileGetter],
    ["a revoked proxy", revoked.proxy],
    [
      "a huge object",
      Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, { i, v: [i, i] }])),
    ],
    [
      "a huge resources array of garbage",
      { ...mutable(ec2StateChange()), resources: Array.from({ length: 100_000 }, (_, i) => i) },
    ],
    [
      "a prototype-polluting detail",
      JSON.parse('{"detail-type":"Device Reconnected","detail":{"__proto__":{"deviceId":"x"}}}'),
    ],
  ];

  it.each(garbage)("%s", (_name, raw) => {
    const error = rejection(raw);
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues.length).toBeLessThanOrEqual(50);
    expect(error.message.length).toBeLessThan(3_000);
  });

  it("top-level non-objects say what they were", () => {
    expect(rejection(null).issues).toEqual(["(event): expected an object, received null"]);
    expect(rejection([]).issues).toEqual(["(event): expected an object, received an array"]);
    expect(rejection("x").issues).toEqual(["(event): expected an object, received a string"]);
  });

  it("an unreadable object keeps the original error as cause", () => {
    const error = rejection(hostileGetter);
    expect(error.fields).toEqual(["(event)"]);
    expect((error.cause as Error).message).toBe("boom");
  });

  it("polluting the prototype does not smuggle a deviceId in", () => {
    expect(Object.prototype).not.toHaveProperty("deviceId");
  });
});

function ec2With(detail: Record<string, unknown>): Record<string, unknown> {
  const event = mutable(ec2StateChange());
  event.detail = { ...(event.detail as object), ...detail };
  return event;
}

function deviceWith(detail: Record<string, unknown>): Record<string, unknown> {
  const event = mutable(deviceReconnected());
  event.detail = { ...(event.detail as object), ...detail };
  return event;
}
