import { AuthorizedKeysTooLargeError, type UnparseableReason } from "./errors.ts";
import { advancePastOptions, type KeyOption, looksLikeOptions, parseOptions } from "./options.ts";

/** Largest authorized_keys file accepted, in bytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Largest single line accepted, in bytes, not counting its "\n". */
export const MAX_LINE_BYTES = 64 * 1024;

export type { UnparseableReason };

/** A line that authorizes a key, with or without options. */
export interface ParsedKeyLine {
  kind: "key";
  /** Options in file order; empty when the line has none. */
  options: KeyOption[];
  /** True when `cert-authority` is among the options: the key then signs certificates only. */
  certAuthority: boolean;
  /** Key type as written, equal to the type embedded in `blob`. */
  algorithm: string;
  /** Decoded key blob. */
  blob: Buffer;
  /** Everything after the key data, leading blanks dropped (latin1). */
  comment: string;
}

/** What one authorized_keys line is, as sshd would read it. */
export type ParsedLine =
  | { kind: "blank" }
  | { kind: "comment" }
  | ParsedKeyLine
  | { kind: "unparseable"; reason: UnparseableReason; detail: string };

/** One line of a file, with its exact bytes. */
export interface AuthorizedKeysLine {
  /** 1-based. */
  lineNumber: number;
  /** The line's bytes including its "\n" (absent on an unterminated last line). */
  raw: Buffer;
  /** The line without its "\n", one character per byte (latin1); a CRLF "\r" stays. */
  text: string;
  parsed: ParsedLine;
}

type KeyRead =
  | { ok: true; algorithm: string; blob: Buffer; comment: string }
  | {
      ok: false;
      reason: UnparseableReason;
      detail: string;
      /** True when the failure is that the first field is not a key type at all. */
      noType: boolean;
    };

const isSpaceOrTab = (c: string | undefined): boolean => c === " " || c === "\t";

function skipSpaceOrTab(s: string, from: number): number {
  let i = from;
  while (isSpaceOrTab(s[i])) i++;
  return i;
}

function indexOfSpaceOrTab(s: string, from: number): number {
  for (let i = from; i < s.length; i++) if (isSpaceOrTab(s[i])) return i;
  return -1;
}

const KEY_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]*$/;

// Besides the exact type name, OpenSSH's sshkey_type_from_name accepts case-insensitive
// short names ("ED25519") and signature-only names ("rsa-sha2-256"). A line declaring one of these for
// another type's blob is not ours to judge, so it is reported rather than silently skipped.
const TYPE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  "ssh-rsa": ["rsa", "rsa-sha2-256", "rsa-sha2-512"],
  "ssh-dss": ["dsa"],
  "ssh-ed25519": ["ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa"],
  "ecdsa-sha2-nistp384": ["ecdsa"],
  "ecdsa-sha2-nistp521": ["ecdsa"],
  "sk-ecdsa-sha2-nistp256@openssh.com": ["ecdsa-sk", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"],
  "ssh-rsa-cert-v01@openssh.com": [
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
  ],
  "sk-ssh-ed25519@openssh.com": ["ed25519-sk"],
  "ssh-xmss@openssh.com": ["xmss"],
};
const SHORT_NAMES = new Set(Object.values(TYPE_ALIASES).flat());

/**
 * Whether `name` has the shape of an SSH key type name ("ssh-ed25519", "sk-...@openssh.com",
 * or a short name such as "ED25519"). Full names have a dash, which base64 never does, so
 * key data is not taken for a type.
 */
export function isKeyTypeName(name: string): boolean {
  return KEY_TYPE_NAME.test(name) && (name.includes("-") || SHORT_NAMES.has(name.toLowerCase()));
}

function sshdMayAccept(declared: string, embedded: string): boolean {
  const lower = declared.toLowerCase();
  return lower === embedded.toLowerCase() || (TYPE_ALIASES[embedded]?.includes(lower) ?? false);
}

/**
 * Decodes base64 the way OpenSSH's b64_pton does: whitespace inside is skipped, padding is
 * required and the unused trailing bits must be zero, so exactly one spelling per blob.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[\t\n\v\f\r ]/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const decoded = Buffer.from(compact, "base64");
  return decoded.toString("base64") === compact ? decoded : undefined;
}

/** The key type embedded in an SSH public key blob (its first SSH string), if well formed. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > blob.length - 4) return undefined;
  return blob.toString("latin1", 4, 4 + length);
}

// sshkey_read: a type token, blanks, a base64 token, then the comment.
function readKey(s: string): KeyRead {
  const fail = (reason: UnparseableReason, detail: string, noType = false): KeyRead => ({
    ok: false,
    reason,
    detail,
    noType,
  });
  const typeEnd = indexOfSpaceOrTab(s, 0);
  const algorithm = s.slice(0, typeEnd === -1 ? s.length : typeEnd);
  // Without this, "no-pty,ssh-ed25519 AAAA..." would pass for a mere type mismatch,
  // which is the one failure trusted to be harmless.
  if (!isKeyTypeName(algorithm)) {
    return fail("missing-key", `${JSON.stringify(algorithm.slice(0, 40))} is not a key type`, true);
  }
  const dataStart = typeEnd === -1 ? s.length : skipSpaceOrTab(s, typeEnd);
  if (dataStart >= s.length) return fail("missing-key", "no key data after the key type");
  const dataEnd = indexOfSpaceOrTab(s, dataStart);
  const data = s.slice(dataStart, dataEnd === -1 ? s.length : dataEnd);
  const blob = decodeBase64Strict(data);
  if (blob === undefined) return fail("bad-key-data", "the key data is not valid base64");
  const embedded = blobKeyType(blob);
  if (embedded === undefined) {
    return fail("bad-key-data", "the key data does not start with a key type");
  }
  if (embedded !== algorithm) {
    return fail(
      sshdMayAccept(algorithm, embedded) ? "ambiguous-type" : "type-mismatch",
      `the line declares ${JSON.stringify(algorithm)} but the key is ${JSON.stringify(embedded)}`,
    );
  }
  const comment = dataEnd === -1 ? "" : s.slice(skipSpaceOrTab(s, dataEnd));
  return { ok: true, algorithm, blob, comment };
}

function keyLine(read: KeyRead & { ok: true }, options: KeyOption[], ca: boolean): ParsedKeyLine {
  return {
    kind: "key",
    options,
    certAuthority: ca,
    algorithm: read.algorithm,
    blob: read.blob,
    comment: read.comment,
  };
}

/**
 * Parses one authorized_keys line the way sshd reads it (auth2-pubkeyfile.c): skip leading
 * blanks; try the line as a bare key; failing that, treat the first field as options and
 * read the key after it.
 *
 * @param line - the line without its "\n", one character per byte (decode with latin1). A
 *   trailing "\r" (CRLF file) is ignored.
 */
export function parseAuthorizedKeysLine(line: string): ParsedLine {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.includes("\0")) {
    return { kind: "unparseable", reason: "nul-byte", detail: "the line contains a NUL byte" };
  }
  const indent = skipSpaceOrTab(text, 0);
  const rest = text.slice(indent);
  if (/^[\t\n\v\f\r ]*$/.test(rest)) return { kind: "blank" };
  if (rest.startsWith("#")) return { kind: "comment" };

  const bare = readKey(rest);
  if (bare.ok) return keyLine(bare, [], false);

  const optionsField = advancePastOptions(rest);
  if (!optionsField.ok) {
    return {
      kind: "unparseable",
      reason: "unclosed-quote",
      detail: `the double quote at column ${indent + optionsField.openQuote + 1} is never closed`,
    };
  }
  const optionsEnd = optionsField.end;
  const afterOptions = readKey(rest.slice(skipSpaceOrTab(rest, optionsEnd)));
  if (afterOptions.ok) {
    const options = parseOptions(rest);
    if (options.ok) return keyLine(afterOptions, options.options, options.certAuthority);
    return { kind: "unparseable", reason: "bad-options", detail: options.error };
  }

  // Both readings failed; report the one the author most likely meant.
  if (bare.reason === "type-mismatch" || bare.reason === "ambiguous-type") return unparseable(bare);
  if (!looksLikeOptions(rest.slice(0, optionsEnd))) return unparseable(bare);
  if (!afterOptions.noType) return unparseable(afterOptions);
  return { kind: "unparseable", reason: "missing-key", detail: "no key type follows the options" };
}

function unparseable(read: KeyRead & { ok: false }): ParsedLine {
  return { kind: "unparseable", reason: read.reason, detail: read.detail };
}

/**
 * Splits a file into lines on "\n" and parses each one.
 *
 * @throws {@link AuthorizedKeysTooLargeError} when the file is over {@link MAX_FILE_BYTES}
 *   or a line is over {@link MAX_LINE_BYTES}.
 */
export function parseAuthorizedKeys(current: Buffer): AuthorizedKeysLine[] {
  if (current.length > MAX_FILE_BYTES) {
    throw new AuthorizedKeysTooLargeError("file", current.length, MAX_FILE_BYTES);
  }
  const lines: AuthorizedKeysLine[] = [];
  let start = 0;
  while (start < current.length) {
    const newline = current.indexOf(0x0a, start);
    const contentEnd = newline === -1 ? current.length : newline;
    const end = newline === -1 ? current.length : newline + 1;
    const lineNumber = lines.length + 1;
    if (contentEnd - start > MAX_LINE_BYTES) {
      throw new AuthorizedKeysTooLargeError("line", contentEnd - start, MAX_LINE_BYTES, lineNumber);
    }
    const text = current.toString("latin1", start, contentEnd);
    lines.push({
      lineNumber,
      raw: current.subarray(start, end),
      text,
      parsed: parseAuthorizedKeysLine(text),
    });
    start = end;
  }
  return lines;
}
