import { describe, expect, it } from "vitest";
import { matchesPattern, transformInput, UnsupportedPatternError } from "./event-pattern.ts";

const event = {
  source: "aws.ec2",
  "detail-type": "EC2 Instance State-change Notification",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:other"],
  detail: { "instance-id": "i-1", state: "running", count: 3, flag: null },
};

describe("EventBridge pattern matching in the stack harness", () => {
  it("matches exact values, nested fields and any element of an array", () => {
    expect(matchesPattern({ source: ["aws.ec2"], detail: { state: ["running"] } }, event)).toBe(
      true,
    );
    expect(matchesPattern({ resources: ["arn:other"] }, event)).toBe(true);
    expect(matchesPattern({ detail: { count: [3], flag: [null] } }, event)).toBe(true);
  });

  it("refuses a different value, a missing field and a string where a number is", () => {
    expect(matchesPattern({ detail: { state: ["stopped"] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { zone: ["a"] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { count: ["3"] } }, event)).toBe(false);
    expect(matchesPattern({ missing: { state: ["running"] } }, event)).toBe(false);
  });

  it("knows prefix, anything-but and exists", () => {
    expect(matchesPattern({ detail: { state: [{ prefix: "run" }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ "anything-but": ["running"] }] } }, event)).toBe(
      false,
    );
    expect(matchesPattern({ detail: { zone: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
  });

  it("refuses an operator it does not implement, naming it", () => {
    expect(() => matchesPattern({ detail: { count: [{ numeric: [">", 1] }] } }, event)).toThrow(
      UnsupportedPatternError,
    );
    expect(() => matchesPattern({ detail: { count: [{ numeric: [">", 1] }] } }, event)).toThrow(
      /"numeric"/,
    );
  });

  it("fills an InputTemplate with the JSON of each path's value", () => {
    const input = transformInput(
      {
        InputPathsMap: { id: "$.detail.instance-id", n: "$.detail.count", none: "$.detail.zone" },
        InputTemplate: '{"deviceId":<id>,"count":<n>,"zone":<none>}',
      },
      event,
    );
    expect(input).toEqual({ deviceId: "i-1", count: 3, zone: null });
  });
});
