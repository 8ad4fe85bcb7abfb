import { describe, expect, it } from "vitest";
import {
  AuthorizedKeysTooLargeError,
  MAX_FILE_BYTES,
  MAX_LINE_BYTES,
  type ParsedLine,
  parseAuthorizedKeys,
  parseAuthorizedKeysLine,
} from "../../../lib/authorized-keys/index.ts";
import { blobOfType, bytes, generateKey, keyLine } from "../../fixtures/authorized-keys/keys.ts";

const key = generateKey("ed25519");
const ecdsa = generateKey("ecdsa");

function expectKey(line: string): Extract<ParsedLine, { kind: "key" }> {
  const parsed = parseAuthorizedKeysLine(line);
  if (parsed.kind !== "key") throw new Error(`expected a key line, got ${JSON.stringify(parsed)}`);
  return parsed;
}

function reasonOf(line: string): string {
  const parsed = parseAuthorizedKeysLine(line);
  return parsed.kind === "unparseable" ? parsed.reason : parsed.kind;
}

describe("parseAuthorizedKeysLine", () => {
  it.each([
    ["an empty line", ""],
    ["spaces and tabs", " \t  "],
    ["a CR alone", "\r"],
    ["blanks before a CR", "  \t\r"],
  ])("reads %s as blank", (_name, line) => {
    expect(parseAuthorizedKeysLine(line)).toEqual({ kind: "blank" });
  });

  it("reads a hash line as a comment, even indented and even when it holds a key", () => {
    expect(parseAuthorizedKeysLine("# ops keys")).toEqual({ kind: "comment" });
    expect(parseAuthorizedKeysLine(`  \t# ${keyLine(key)}`)).toEqual({ kind: "comment" });
  });

  it("reads a bare key with its type, decoded blob and comment", () => {
    const parsed = expectKey(keyLine(key, { comment: "alice@laptop  extra words" }));
    expect(parsed.algorithm).toBe("ssh-ed25519");
    expect(parsed.blob.equals(key.blob)).toBe(true);
    expect(parsed.comment).toBe("alice@laptop  extra words");
    expect(parsed.options).toEqual([]);
    expect(parsed.certAuthority).toBe(false);
  });

  it("reads a key without a comment, after leading blanks, ignoring a CRLF carriage return", () => {
    const parsed = expectKey(` \t${keyLine(key)}\r`);
    expect(parsed.blob.equals(key.blob)).toBe(true);
    expect(parsed.comment).toBe("");
  });

  it("skips whitespace inside the base64, as OpenSSH's decoder does", () => {
    const spread = `${key.base64.slice(0, 20)}\v${key.base64.slice(20, 40)}\f${key.base64.slice(40)}`;
    expect(expectKey(`ssh-ed25519 ${spread} c`).blob.equals(key.blob)).toBe(true);
  });

  it("refuses base64 without its padding, as OpenSSH does", () => {
    expect(ecdsa.base64.endsWith("=")).toBe(true);
    expect(reasonOf(`${ecdsa.algorithm} ${ecdsa.base64.replace(/=+$/, "")} c`)).toBe(
      "bad-key-data",
    );
  });

  it("refuses base64 whose unused trailing bits are set", () => {
    const b64 = ecdsa.base64;
    const last = b64.length - 2; // the character before the single "="
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const flipped = alphabet[alphabet.indexOf(b64.charAt(last)) ^ 1];
    const mangled = `${b64.slice(0, last)}${flipped}=`;
    expect(Buffer.from(mangled, "base64").equals(ecdsa.blob)).toBe(true);
    expect(reasonOf(`${ecdsa.algorithm} ${mangled}`)).toBe("bad-key-data");
  });

  it("reads options whose quoted values hold commas, spaces and escaped quotes", () => {
    const parsed = expectKey(
      `command="echo \\"a, b\\"",from="10.0.0.1,10.0.0.2" ${keyLine(key, { comment: "c" })}`,
    );
    expect(parsed.options).toEqual([
      { name: "command", value: 'echo "a, b"' },
      { name: "from", value: "10.0.0.1,10.0.0.2" },
    ]);
    expect(parsed.blob.equals(key.blob)).toBe(true);
    expect(parsed.comment).toBe("c");
  });

  it("flags cert-authority wherever it sits among the options, in any case", () => {
    expect(expectKey(`cert-authority ${keyLine(key)}`).certAuthority).toBe(true);
    expect(expectKey(`no-pty,Cert-Authority,restrict ${keyLine(key)}`).certAuthority).toBe(true);
    expect(expectKey(`command="cert-authority" ${keyLine(key)}`).certAuthority).toBe(false);
  });

  it("matches option names case-insensitively and records negations", () => {
    expect(expectKey(`NO-PTY,Command="true",no-X11-forwarding ${keyLine(key)}`).options).toEqual([
      { name: "no-pty" },
      { name: "command", value: "true" },
      { name: "no-x11-forwarding" },
    ]);
  });

  // Each of these was checked against a real OpenSSH 9.2 sshd: all are accepted.
  it.each([
    ["a trailing comma", "no-pty,"],
    ["a leading comma", ",no-pty"],
    ["a doubled comma", "no-pty,,no-x11-forwarding"],
    ["restrict then pty", "restrict,pty"],
    ["an expiry time", 'expiry-time="20991231"'],
    ["an expiry time with a clock and zone", 'expiry-time="209912312359Z"'],
    ["tunnel any", 'tunnel="any"'],
    ["a permitlisten bare port", 'permitlisten="8080"'],
    ["a permitopen bracketed host", 'permitopen="[::1]:22"'],
    ["an environment variable", 'environment="LANG=C.UTF-8"'],
  ])("accepts options with %s, as sshd does", (_name, options) => {
    expect(expectKey(`${options} ${keyLine(key)}`).blob.equals(key.blob)).toBe(true);
  });

  // Each of these was checked against a real OpenSSH 9.2 sshd: all are refused.
  it.each([
    ["an unknown option", "foo"],
    ["a flag with trailing letters", "no-ptyx"],
    ["a negated cert-authority", "no-cert-authority"],
    ["a repeated command", 'command="a",command="b"'],
    ["an unquoted value", "command=true"],
    ["a short expiry time", 'expiry-time="2099123"'],
    ["a dash in an environment name", 'environment="A-B=1"'],
    ["a permitopen without a port", 'permitopen="localhost"'],
    ["text after a closing quote", 'command="a"b'],
    ["principals without cert-authority", 'command="true",principals="root"'],
  ])("refuses options with %s as bad options", (_name, options) => {
    expect(reasonOf(`${options} ${keyLine(key)}`)).toBe("bad-options");
  });

  it("reports an unclosed quote in the options", () => {
    expect(reasonOf(`command="echo hi ${keyLine(key)}`)).toBe("unclosed-quote");
    expect(reasonOf(`command="echo \\" ${keyLine(key)}`)).toBe("unclosed-quote");
  });

  it("reports a declared type that differs from the blob's as a type mismatch", () => {
    const parsed = parseAuthorizedKeysLine(`ssh-rsa ${key.base64} c`);
    expect(parsed).toMatchObject({ kind: "unparseable", reason: "type-mismatch" });
    expect(reasonOf(`no-pty ssh-rsa ${key.base64} c`)).toBe("type-mismatch");
  });

  it("reports a type name sshd may take as an alias as ambiguous, not as a mismatch", () => {
    expect(reasonOf(`ED25519 ${key.base64}`)).toBe("ambiguous-type");
    expect(reasonOf(`SSH-ED25519 ${key.base64}`)).toBe("ambiguous-type");
  });

  it("does not take options glued to the key type for a type mismatch", () => {
    expect(reasonOf(`no-pty,ssh-ed25519 ${key.base64}`)).toBe("missing-key");
  });

  it("reads key types it does not know when the blob embeds the same type", () => {
    const sk = blobOfType("sk-ssh-ed25519@openssh.com", Buffer.alloc(40, 7));
    const foo = blobOfType("ssh-foo", Buffer.from("anything"));
    expect(expectKey(`sk-ssh-ed25519@openssh.com ${sk.toString("base64")} yk`).algorithm).toBe(
      "sk-ssh-ed25519@openssh.com",
    );
    expect(expectKey(`no-pty ssh-foo ${foo.toString("base64")}`).algorithm).toBe("ssh-foo");
  });

  it.each([
    ["plain text", "hello world"],
    ["a type alone", "ssh-ed25519"],
    ["a type and garbage", "ssh-ed25519 !!!notbase64"],
    ["base64 that is not a key", `ssh-ed25519 ${Buffer.from("xy").toString("base64")}`],
  ])("reports %s as unparseable", (_name, line) => {
    expect(parseAuthorizedKeysLine(line).kind).toBe("unparseable");
  });

  it("reports a NUL byte, where sshd would stop reading the line", () => {
    expect(reasonOf(`${keyLine(key)} c\0x`)).toBe("nul-byte");
  });
});

describe("parseAuthorizedKeys", () => {
  it("returns no lines for an empty file", () => {
    expect(parseAuthorizedKeys(Buffer.alloc(0))).toEqual([]);
  });

  it("splits on LF, keeps each terminator in raw and numbers lines from 1", () => {
    const file = bytes(`# a\r\n\n${keyLine(key)}\nlast`);
    const lines = parseAuthorizedKeys(file);
    expect(lines.map((line) => line.lineNumber)).toEqual([1, 2, 3, 4]);
    expect(lines.map((line) => line.raw.toString("latin1"))).toEqual([
      "# a\r\n",
      "\n",
      `${keyLine(key)}\n`,
      "last",
    ]);
    expect(lines.map((line) => line.parsed.kind)).toEqual([
      "comment",
      "blank",
      "key",
      "unparseable",
    ]);
    expect(Buffer.concat(lines.map((line) => line.raw)).equals(file)).toBe(true);
  });

  it("reads bytes that are not UTF-8 one character per byte", () => {
    const file = Buffer.concat([bytes(`${keyLine(key)} caf`), Buffer.from([0xe9, 0xff, 0x0a])]);
    const [line] = parseAuthorizedKeys(file);
    expect(line?.parsed).toMatchObject({ kind: "key", comment: "caf\u00e9\u00ff" });
  });

  it("refuses a file over the size limit", () => {
    const filler = `${"#".repeat(1023)}\n`;
    expect(() => parseAuthorizedKeys(Buffer.alloc(MAX_FILE_BYTES + 1, filler))).toThrow(
      AuthorizedKeysTooLargeError,
    );
    expect(parseAuthorizedKeys(Buffer.alloc(MAX_FILE_BYTES, filler))).toHaveLength(1024);
  });

  it("refuses a line over the size limit, not counting its terminator", () => {
    const atLimit = Buffer.concat([Buffer.alloc(MAX_LINE_BYTES, 0x23), bytes("\n")]);
    expect(parseAuthorizedKeys(atLimit)).toHaveLength(1);
    const over = Buffer.concat([bytes("#ok\n"), Buffer.alloc(MAX_LINE_BYTES + 1, 0x23)]);
    expect(() => parseAuthorizedKeys(over)).toThrow(
      expect.objectContaining({ scope: "line", lineNumber: 2 }),
    );
  });
});
