import { describe, expect, it } from "vitest";
import {
  AuthorizedKeysError,
  editAuthorizedKeys,
  UnparseableLineError,
} from "../../../lib/authorized-keys/index.ts";
import { malformedCases } from "../../fixtures/authorized-keys/malformed.ts";

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, got a result");
}

describe("editAuthorizedKeys refuses malformed input", () => {
  it("has a catalogue of at least ten cases", () => {
    expect(malformedCases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(malformedCases)("refuses $name", ({ input, change, error, fields }) => {
    const before = Buffer.from(input);
    const thrown = thrownBy(() => editAuthorizedKeys(input, change));

    expect(thrown).toBeInstanceOf(error);
    expect(thrown).toBeInstanceOf(AuthorizedKeysError);
    expect(thrown).toMatchObject(fields);
    expect((thrown as Error).name).toBe(error.name);
    expect(input.equals(before)).toBe(true);
    if (thrown instanceof UnparseableLineError) {
      expect(thrown.message).toContain(`line ${thrown.lineNumber}`);
      expect(thrown.message).toContain(thrown.fingerprint);
      expect(thrown.message).toMatch(/by hand/);
    }
  });

  it("gives each case its own message", () => {
    const messages = malformedCases.map(
      ({ input, change }) => (thrownBy(() => editAuthorizedKeys(input, change)) as Error).message,
    );
    expect(new Set(messages).size).toBe(messages.length);
  });
});
