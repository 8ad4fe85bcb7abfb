import { describe, expect, it } from "vitest";
import { parseSince } from "../../../lib/cli/duration.ts";
import { UsageError } from "../../../lib/cli/errors.ts";

const NOW = new Date("2025-06-01T12:00:00.000Z");

describe("parseSince", () => {
  it.each([
    ["90m", "2025-06-01T10:30:00.000Z"],
    ["24h", "2025-05-31T12:00:00.000Z"],
    ["7d", "2025-05-25T12:00:00.000Z"],
    ["2w", "2025-05-18T12:00:00.000Z"],
    ["45s", "2025-06-01T11:59:15.000Z"],
    ["1h30m", "2025-06-01T10:30:00.000Z"],
  ])("reads the duration %s back from now", (text, expected) => {
    expect(parseSince(text, NOW)).toBe(expected);
  });

  it.each([
    ["2025-05-31T08:00:00Z", "2025-05-31T08:00:00.000Z"],
    ["2025-05-31T08:00:00+02:00", "2025-05-31T06:00:00.000Z"],
    ["2025-05-31T08:00:00.250Z", "2025-05-31T08:00:00.250Z"],
    ["2025-05-31", "2025-05-31T00:00:00.000Z"],
  ])("reads the ISO instant %s", (text, expected) => {
    expect(parseSince(text, NOW)).toBe(expected);
  });

  it.each([
    "yesterday",
    "24",
    "h",
    "-24h",
    "0h",
    "24 h",
    "2025-13-01",
    "2025-05-31T25:00Z",
    "2025-05-31T08:00",
    "",
  ])("refuses %j as bad usage", (text) => {
    expect(() => parseSince(text, NOW)).toThrow(UsageError);
  });

  it("names the flag and what it accepts", () => {
    expect(() => parseSince("soon", NOW)).toThrow(
      '--since must be a duration such as 90m, 24h or 7d (back from now), or an ISO 8601 date-time with a zone such as 2025-01-31T12:00:00Z (got "soon")',
    );
  });
});
