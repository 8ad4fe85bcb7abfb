import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  editAuthorizedKeys,
  findKeys,
  type KeyChange,
  parseAuthorizedKeys,
  parseAuthorizedKeysLine,
} from "../../../lib/authorized-keys/index.ts";
import { blobOfType, bytes, generateKey, keyLine } from "../../fixtures/authorized-keys/keys.ts";

const RUNS = { numRuns: 300 };

// Keys the generated changes manage, and keys they never mention.
const pool = Array.from({ length: 5 }, (_, i) => generateKey("ed25519", `pool${i}@fleet`));
const strangers = Array.from({ length: 2 }, () => generateKey("ed25519", "stranger@elsewhere"));

/** One generated line: its text (one char per byte) and, if any, the pool key it authorizes. */
interface LineSpec {
  text: string;
  /** Index in `pool` of the key this line authorizes as a plain key. */
  holds?: number;
  /** Index in `pool` of the key this line trusts as a certificate authority. */
  authority?: number;
}

interface FileSpec {
  lines: { spec: LineSpec; ending: "\n" | "\r\n" | "" }[];
}

const indent = fc.constantFrom("", " ", "\t", "  \t");
const text = fc.string({ unit: fc.constantFrom(..."abc XYZ019-_.@:/=,#'\"\\\u00e9\u00ff\t") });
const comment = fc.option(
  text.map((s) => s.trim()),
  { nil: undefined },
);
const poolEntry = fc.constantFrom(...pool.map((key, index) => ({ key, index })));
const stranger = fc.constantFrom(...strangers);

// Quoted values with commas, spaces, `=` and escaped quotes, never a lone backslash.
const quotedValue = fc
  .array(fc.constantFrom("a", "b c", ",", '\\"', "=", "10.0.0.1", " ", "\u00e9", "#"), {
    maxLength: 6,
  })
  .map((parts) => parts.join(""));

const valuedOption = fc.oneof(
  quotedValue.map((v) => ({ name: "command", text: `command="${v}"` })),
  quotedValue.map((v) => ({ name: "from", text: `from="${v}"` })),
  quotedValue.map((v) => ({ name: "environment", text: `environment="VAR_1=${v}"` })),
);
const flagOption = fc.constantFrom(
  "no-pty",
  "NO-PORT-FORWARDING",
  "restrict",
  "pty",
  "no-x11-forwarding",
  "no-agent-forwarding",
  "no-user-rc",
);

/** A non-empty options field OpenSSH accepts, optionally with cert-authority among it. */
function options(certAuthority: boolean): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.uniqueArray(valuedOption, { selector: (o) => o.name, maxLength: 3 }),
      fc.array(flagOption, { maxLength: 3 }),
      fc.nat(),
    )
    .filter(([valued, flags]) => certAuthority || valued.length + flags.length > 0)
    .map(([valued, flags, at]) => {
      const all = [...valued.map((o) => o.text), ...flags];
      if (certAuthority) all.splice(at % (all.length + 1), 0, "cert-authority");
      return all.join(",");
    });
}

const lineSpec: fc.Arbitrary<LineSpec> = fc.oneof(
  fc.tuple(indent, text).map(([i, t]) => ({ text: `${i}#${t}` })),
  indent.map((i) => ({ text: i })),
  fc.tuple(indent, poolEntry, comment).map(([i, { key, index }, c]) => ({
    text: `${i}${keyLine(key, { comment: c })}`,
    holds: index,
  })),
  fc.tuple(indent, options(false), poolEntry, comment).map(([i, o, { key, index }, c]) => ({
    text: `${i}${o} ${keyLine(key, { comment: c })}`,
    holds: index,
  })),
  fc.tuple(options(true), poolEntry, comment).map(([o, { key, index }, c]) => ({
    text: `${o} ${keyLine(key, { comment: c })}`,
    authority: index,
  })),
  fc.tuple(fc.option(options(false)), stranger, comment).map(([o, s, c]) => ({
    text: keyLine(s, { options: o ?? undefined, comment: c }),
  })),
  fc
    .tuple(fc.constantFrom("ssh-foo", "sk-ssh-ed25519@openssh.com"), fc.uint8Array())
    .map(([type, payload]) => ({
      text: `${type} ${blobOfType(type, Buffer.from(payload)).toString("base64")} unknown`,
    })),
  poolEntry.map(({ key }) => ({ text: `ssh-rsa ${key.base64} declared with the wrong type` })),
  stranger.map((s) => ({ text: `command="never closed ${keyLine(s)}` })),
  fc
    .uint8Array({ maxLength: 80 })
    .map((raw) => ({ text: Buffer.from(raw.filter((b) => b !== 0x0a)).toString("latin1") })),
);

const fileSpec: fc.Arbitrary<FileSpec> = fc
  .tuple(
    fc.array(fc.tuple(lineSpec, fc.constantFrom<"\n" | "\r\n">("\n", "\r\n")), { maxLength: 25 }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([lines, duplicates, unterminated]) => {
    const all = [...lines];
    for (const [from, to] of duplicates) {
      const copy = all[from % Math.max(all.length, 1)];
      if (copy !== undefined) all.splice(to % (all.length + 1), 0, copy);
    }
    const result: FileSpec["lines"] = all.map(([spec, ending]) => ({ spec, ending }));
    const last = result.at(-1);
    if (unterminated && last !== undefined) last.ending = "";
    return { lines: result };
  });

/** Each pool key is wanted present, wanted absent, or left alone. */
const roles = fc.array(fc.constantFrom("present", "absent", "none"), {
  minLength: pool.length,
  maxLength: pool.length,
});

function changeOf(keyRoles: readonly string[]): KeyChange {
  return {
    present: pool.filter((_, i) => keyRoles[i] === "present"),
    absent: pool.filter((_, i) => keyRoles[i] === "absent"),
  };
}

function render(lines: FileSpec["lines"]): Buffer {
  return Buffer.concat(lines.map(({ spec, ending }) => bytes(`${spec.text}${ending}`)));
}

/** The expected output, computed from the generated structure rather than by parsing. */
function expectedOutput(file: FileSpec, keyRoles: readonly string[]): Buffer {
  const isAbsent = (k: number | undefined) => k !== undefined && keyRoles[k] === "absent";
  const kept = file.lines.filter(({ spec }) => !isAbsent(spec.holds) && !isAbsent(spec.authority));
  const keptBytes = render(kept);
  const found = new Set(kept.map(({ spec }) => spec.holds));
  const missing = pool.filter((_, i) => keyRoles[i] === "present" && !found.has(i));
  if (missing.length === 0) return keptBytes;
  const separator = keptBytes.length > 0 && keptBytes.at(-1) !== 0x0a ? "\n" : "";
  const added = missing.map((key) => `${keyLine(key, { comment: key.comment })}\n`).join("");
  return Buffer.concat([keptBytes, bytes(`${separator}${added}`)]);
}

describe("editAuthorizedKeys over generated files", () => {
  it("keeps every unmanaged line byte for byte and in order, removing and appending only managed keys", () => {
    fc.assert(
      fc.property(fileSpec, roles, (file, keyRoles) => {
        const input = render(file.lines);
        const result = editAuthorizedKeys(input, changeOf(keyRoles));
        const expected = expectedOutput(file, keyRoles);
        expect(result.content.toString("latin1")).toBe(expected.toString("latin1"));
        expect(result.changed).toBe(!expected.equals(input));
      }),
      RUNS,
    );
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(fileSpec, roles, (file, keyRoles) => {
        const change = changeOf(keyRoles);
        const once = editAuthorizedKeys(render(file.lines), change);
        const twice = editAuthorizedKeys(once.content, change);
        expect(twice.changed).toBe(false);
        expect(twice.content.equals(once.content)).toBe(true);
        expect(twice.added).toEqual([]);
        expect(twice.removed).toBe(0);
      }),
      RUNS,
    );
  });

  it("leaves every present key authorized and no absent key authorized, as a key or an authority", () => {
    fc.assert(
      fc.property(fileSpec, roles, (file, keyRoles) => {
        const change = changeOf(keyRoles);
        const { content } = editAuthorizedKeys(render(file.lines), change);
        expect(findKeys(content, change.present)).toEqual(change.present);
        const trusted = parseAuthorizedKeys(content).flatMap(({ parsed }) =>
          parsed.kind === "key" ? [parsed.blob] : [],
        );
        for (const key of change.absent) {
          expect(trusted.some((blob) => blob.equals(key.blob))).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it("returns the input byte for byte when asked for no change", () => {
    fc.assert(
      fc.property(fileSpec, (file) => {
        const input = render(file.lines);
        const result = editAuthorizedKeys(input, { present: [], absent: [] });
        expect(result.changed).toBe(false);
        expect(result.content.equals(input)).toBe(true);
      }),
      RUNS,
    );
  });

  it("returns the input byte for byte for arbitrary bytes when asked for no change", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (raw) => {
        const input = Buffer.from(raw);
        const result = editAuthorizedKeys(input, { present: [], absent: [] });
        expect(result.content.equals(input)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("parseAuthorizedKeysLine over generated lines", () => {
  it("reads back generated option values exactly", () => {
    fc.assert(
      fc.property(quotedValue, quotedValue, poolEntry, (command, from, { key }) => {
        const line = `command="${command}",from="${from}" ${keyLine(key)}`;
        const parsed = parseAuthorizedKeysLine(line);
        expect(parsed).toMatchObject({
          kind: "key",
          options: [
            { name: "command", value: command.replaceAll('\\"', '"') },
            { name: "from", value: from.replaceAll('\\"', '"') },
          ],
        });
      }),
      RUNS,
    );
  });

  it("never throws, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        parseAuthorizedKeysLine(Buffer.from(raw).toString("latin1"));
      }),
      RUNS,
    );
  });
});
