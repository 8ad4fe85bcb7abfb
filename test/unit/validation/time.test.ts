import { describe, expect, it } from "vitest";
import { parseDuration, parseInstant } from "../../../lib/validation/time.ts";

const NOW = new Date("2025-06-01T12:00:00.000Z");

describe("one duration grammar", () => {
  it.each([
    ["500ms", 500],
    ["45s", 45_000],
    ["10m", 600_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1m30s500ms", 90_500],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10", "0s", "0", "-5m", "5 m", "m", "1.5h", "", "99999999999999999999d"])(
    "refuses %j",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it("takes zero only when asked, for a switch-off value", () => {
    expect(parseDuration("0", { allowZero: true })).toBe(0);
    expect(parseDuration("0s", { allowZero: true })).toBe(0);
    expect(parseDuration("10", { allowZero: true })).toBeUndefined();
  });
});

describe("one instant grammar", () => {
  it.each([
    ["90m", "2025-06-01T10:30:00.000Z"],
    ["1h30m", "2025-06-01T10:30:00.000Z"],
    ["2025-05-31", "2025-05-31T00:00:00.000Z"],
    ["2025-05-31T08:00:00Z", "2025-05-31T08:00:00.000Z"],
    ["2025-05-31T08:00Z", "2025-05-31T08:00:00.000Z"],
    ["2025-05-31 08:00:00+02:00", "2025-05-31T06:00:00.000Z"],
    ["2025-05-31T08:00:00+0200", "2025-05-31T06:00:00.000Z"],
    ["2025-05-31t08:00:00.250z", "2025-05-31T08:00:00.250Z"],
  ])("reads %s", (text, iso) => {
    expect(parseInstant(text, NOW)).toBe(iso);
  });

  it.each([
    "yesterday",
    "24",
    "0h",
    "2025-13-01",
    "2025-02-30",
    "2025-05-31T25:00Z",
    "2025-05-31T08:60Z",
    "2025-05-31T08:00:00",
    "2025-05-31T08:00:00+24:00",
    "",
  ])("refuses %j", (text) => {
    expect(parseInstant(text, NOW)).toBeUndefined();
  });
});
