import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { operatorRunName } from "../../../lib/api/run-names.ts";
import { RUN_NAME_MAX_LENGTH, runNameFor } from "../../../lib/events/index.ts";
import { runNamePart } from "../../../lib/events/run-name.ts";

const VALID = /^[A-Za-z0-9_-]{1,80}$/;

// Any string at all, including the full Unicode range, plus realistic ids.
const anyId = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
  fc.uuid(),
);

describe("runNameFor", () => {
  it("is always 1..80 characters of [A-Za-z0-9_-]", () => {
    fc.assert(
      fc.property(anyId, anyId, (deviceId, eventId) => {
        const name = runNameFor(deviceId, eventId);
        expect(name).toMatch(VALID);
        expect(name.length).toBeLessThanOrEqual(RUN_NAME_MAX_LENGTH);
      }),
      { numRuns: 500 },
    );
  });

  it("gives the same name for the same pair", () => {
    fc.assert(
      fc.property(anyId, anyId, (deviceId, eventId) => {
        expect(runNameFor(deviceId, eventId)).toBe(runNameFor(`${deviceId}`, `${eventId}`));
      }),
    );
  });

  it("gives different names to different pairs", () => {
    fc.assert(
      fc.property(
        fc.tuple(anyId, anyId),
        fc.tuple(anyId, anyId),
        ([deviceA, eventA], [deviceB, eventB]) => {
          fc.pre(deviceA !== deviceB || eventA !== eventB);
          expect(runNameFor(deviceA, eventA)).not.toBe(runNameFor(deviceB, eventB));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("keeps apart ids that sanitise alike, or that split the same text differently", () => {
    const names = [
      runNameFor("a.b", "e1"),
      runNameFor("a:b", "e1"),
      runNameFor("a_b", "e1"),
      runNameFor("ab", "ce1"),
      runNameFor("abc", "e1"),
      runNameFor("a b", "e1"),
      runNameFor("a\u00e9b", "e1"),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it("starts with the readable device id", () => {
    expect(runNameFor("edge-router-01", "0f8fad5b-d9cb-469f-a165-70867728950e")).toMatch(
      /^edge-router-01-[0-9a-f]{24}$/,
    );
    expect(runNameFor("rack-7:sw.01", "e")).toMatch(/^rack-7_sw_01-[0-9a-f]{24}$/);
  });

  it("still fits a 128-character device id", () => {
    const name = runNameFor("d".repeat(128), "e".repeat(1000));
    expect(name).toMatch(VALID);
    expect(name.length).toBe(80);
  });

  it("is only the hash when nothing of the device id survives sanitising", () => {
    expect(runNameFor("", "e")).toMatch(/^[0-9a-f]{24}$/);
    expect(runNameFor("....", "e")).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe("one run-name sanitiser for event runs and operator runs", () => {
  it("names a resolve of any device id with 1..80 characters of [A-Za-z0-9_-]", () => {
    fc.assert(
      fc.property(anyId, (deviceId) => {
        expect(operatorRunName("resolve", deviceId)).toMatch(VALID);
      }),
      { numRuns: 300 },
    );
  });

  it("shows the same readable device part in both kinds of run", () => {
    const deviceId = "-web.eu:1-";
    expect(runNamePart(deviceId, 50)).toBe("web_eu_1");
    expect(runNameFor(deviceId, "event-1")).toMatch(/^web_eu_1-[0-9a-f]{24}$/);
    expect(operatorRunName("resolve", deviceId)).toMatch(/^resolve-web_eu_1-[0-9A-Z]{26}$/);
    expect(operatorRunName("resolve", "::")).toMatch(/^resolve-[0-9A-Z]{26}$/);
  });
});
