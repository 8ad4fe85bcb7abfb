import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, pageSize } from "../../../lib/store/dynamo-util.ts";
import { InvalidArgumentError, InvalidCursorError } from "../../../lib/store/errors.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("pagination cursors", () => {
  it("round-trip a LastEvaluatedKey as opaque base64url", () => {
    const key = { id: "01J0", deviceId: "web-1", sk: "2025-01-01T00:00:00.000Z#01J0" };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ["id", "deviceId", "sk"], { deviceId: "web-1" })).toEqual(key);
    expect(encodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor(undefined, ["id"])).toBeUndefined();
  });

  it.each([
    ["not base64url", "a+b/c="],
    ["not JSON", Buffer.from("{nope").toString("base64url")],
    ["an array", b64(["id"])],
    ["missing attributes", b64({ id: "x" })],
    ["extra attributes", b64({ id: "x", status: "KEY_BASED", evil: "1" })],
    ["a nested value", b64({ id: { S: "x" }, status: "KEY_BASED" })],
    ["another partition", b64({ id: "x", status: "UNKNOWN" })],
  ])("refuses %s with a message saying what to do", (_label, cursor) => {
    const decode = () => decodeCursor(cursor, ["id", "status"], { status: "KEY_BASED" });
    expect(decode).toThrow(InvalidCursorError);
    expect(decode).toThrow("cursor is invalid or expired; restart the listing without it");
  });
});

describe("page size", () => {
  it("defaults to 50 and accepts 1..1000", () => {
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(1000)).toBe(1000);
  });

  it.each([0, -1, 1.5, 1001, Number.NaN])("refuses %s", (limit) => {
    expect(() => pageSize(limit)).toThrow(InvalidArgumentError);
  });
});
