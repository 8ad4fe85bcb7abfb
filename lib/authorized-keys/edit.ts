import { fingerprintOf } from "../keys/fingerprint.ts";
import { ConflictingKeyChangeError, InvalidKeyRefError, UnparseableLineError } from "./errors.ts";
import {
  type AuthorizedKeysLine,
  blobKeyType,
  isKeyTypeName,
  MAX_LINE_BYTES,
  parseAuthorizedKeys,
} from "./parse.ts";

/** A key identified by its decoded blob; the comment is only used when writing a new line. */
export interface KeyRef {
  /** Key type, e.g. "ssh-ed25519"; must equal the type embedded in `blob`. */
  algorithm: string;
  /** The public key blob (the base64-decoded second field of a key line). */
  blob: Buffer;
  /** Written after the key on lines this editor adds; never used to recognise a key. */
  comment?: string;
}

/** Keys that must end up authorized (`present`) and keys that must not (`absent`). */
export interface KeyChange {
  present: readonly KeyRef[];
  absent: readonly KeyRef[];
}

/** Outcome of {@link editAuthorizedKeys}. */
export interface EditResult {
  /** The new file. Equal to the input byte for byte when `changed` is false. */
  content: Buffer;
  changed: boolean;
  /** `present` keys that were missing and have been appended, in order. */
  added: KeyRef[];
  /** Number of lines removed for `absent` keys, `cert-authority` lines included. */
  removed: number;
  /**
   * How many of the removed lines were `cert-authority` lines: a revoked key must not keep
   * signing certificates that log in.
   */
  removedCertAuthorities: number;
}

interface ManagedKey {
  ref: KeyRef;
  base64: string;
  fingerprint: string;
}

function manage(ref: KeyRef): ManagedKey {
  if (!isKeyTypeName(ref.algorithm)) {
    throw new InvalidKeyRefError("algorithm", ref.algorithm, "not a key type name");
  }
  const embedded = blobKeyType(ref.blob);
  if (embedded !== ref.algorithm) {
    const found = embedded === undefined ? "no key type" : JSON.stringify(embedded);
    throw new InvalidKeyRefError("blob", ref.algorithm, `the blob holds ${found}`);
  }
  // A line break or NUL in the comment would split or truncate the line we write.
  if (ref.comment !== undefined && /[\0\n\r]/.test(ref.comment)) {
    throw new InvalidKeyRefError("comment", ref.algorithm, "the comment contains a line break");
  }
  const base64 = ref.blob.toString("base64");
  if (formatKeyLine(ref, base64).length - 1 > MAX_LINE_BYTES) {
    throw new InvalidKeyRefError("blob", ref.algorithm, "the key line would be too long");
  }
  return { ref, base64, fingerprint: fingerprintOf(ref.blob) };
}

function byBlob(refs: readonly KeyRef[]): Map<string, ManagedKey> {
  const keys = new Map<string, ManagedKey>();
  for (const ref of refs) {
    const key = manage(ref);
    if (!keys.has(key.base64)) keys.set(key.base64, key);
  }
  return keys;
}

function formatKeyLine(ref: KeyRef, base64: string): Buffer {
  const comment = ref.comment ? ` ${ref.comment}` : "";
  return Buffer.concat([
    Buffer.from(`${ref.algorithm} ${base64}`, "latin1"),
    Buffer.from(`${comment}\n`, "utf8"),
  ]);
}

/** The plain (not cert-authority) key a line authorizes, as a map key; else undefined. */
function plainKeyOf(line: AuthorizedKeysLine): string | undefined {
  const { parsed } = line;
  if (parsed.kind !== "key" || parsed.certAuthority) return undefined;
  return parsed.blob.toString("base64");
}

/** The certificate authority a `cert-authority` line trusts, as a map key; else undefined. */
function authorityKeyOf(line: AuthorizedKeysLine): string | undefined {
  const { parsed } = line;
  if (parsed.kind !== "key" || !parsed.certAuthority) return undefined;
  return parsed.blob.toString("base64");
}

/**
 * Whether an unparseable line may hold `key`. Generous on purpose: the key's base64 anywhere
 * in the line (blanks OpenSSH skips inside base64 removed, padding optional), or any field
 * that decodes leniently to the blob.
 */
function mentions(line: AuthorizedKeysLine, key: ManagedKey): boolean {
  const compact = line.text.replace(/[\n\v\f\r]/g, "");
  if (compact.includes(key.base64.replace(/=+$/, ""))) return true;
  return compact
    .split(/[ \t]+/)
    .some((field) =>
      Buffer.from(field.replace(/[^A-Za-z0-9+/]/g, ""), "base64").equals(key.ref.blob),
    );
}

/**
 * Makes `present` keys authorized and `absent` keys not, touching nothing else.
 *
 * A key is recognised by its decoded blob, never by its comment. Lines holding an `absent`
 * key are removed whole, as a plain key (with or without options) or as a `cert-authority`
 * line: whoever holds a revoked private key could otherwise still log in with a certificate
 * it signs. A `cert-authority` line never counts as a present key, and one for a key that is
 * not absent is kept. Missing `present` keys are appended as
 * `<algorithm> <base64> <comment>\n`. Every other line is kept byte for byte, in order.
 * Applying the same change to the result changes nothing.
 *
 * @throws {@link ConflictingKeyChangeError} when a key is both present and absent.
 * @throws {@link InvalidKeyRefError} when a KeyRef's blob does not match its algorithm.
 * @throws {@link UnparseableLineError} when an unparseable line mentions an `absent` key.
 * @throws {@link AuthorizedKeysTooLargeError} on an implausibly large file or line.
 */
export function editAuthorizedKeys(current: Buffer, change: KeyChange): EditResult {
  const present = byBlob(change.present);
  const absent = byBlob(change.absent);
  for (const [blob, key] of present) {
    if (absent.has(blob)) throw new ConflictingKeyChangeError(key.ref.algorithm, key.fingerprint);
  }

  const found = new Set<string>();
  const kept: Buffer[] = [];
  let removed = 0;
  let removedCertAuthorities = 0;
  for (const line of parseAuthorizedKeys(current)) {
    const plain = plainKeyOf(line);
    if (plain !== undefined && absent.has(plain)) {
      removed++;
      continue;
    }
    const authority = authorityKeyOf(line);
    if (authority !== undefined && absent.has(authority)) {
      removed++;
      removedCertAuthorities++;
      continue;
    }
    if (plain !== undefined) found.add(plain);
    const { parsed } = line;
    // A type mismatch is certain to be ignored by sshd; anything else might be honoured.
    if (parsed.kind === "unparseable" && parsed.reason !== "type-mismatch") {
      for (const key of absent.values()) {
        if (mentions(line, key)) {
          throw new UnparseableLineError(
            line.lineNumber,
            parsed.reason,
            parsed.detail,
            key.fingerprint,
          );
        }
      }
    }
    kept.push(line.raw);
  }

  const missing = [...present.values()].filter((key) => !found.has(key.base64));
  const parts = kept;
  const last = kept.at(-1);
  if (missing.length > 0 && last !== undefined && last.at(-1) !== 0x0a) {
    parts.push(Buffer.from("\n"));
  }
  for (const key of missing) parts.push(formatKeyLine(key.ref, key.base64));

  const content = Buffer.concat(parts);
  const changed = !content.equals(current);
  return {
    content,
    changed,
    added: missing.map((key) => key.ref),
    removed,
    removedCertAuthorities,
  };
}

/**
 * Which of `keys` the file authorizes as plain keys (not cert-authority), by blob.
 *
 * @throws {@link InvalidKeyRefError} when a KeyRef's blob does not match its algorithm.
 * @throws {@link AuthorizedKeysTooLargeError} on an implausibly large file or line.
 */
export function findKeys(current: Buffer, keys: readonly KeyRef[]): KeyRef[] {
  const authorized = new Set<string>();
  for (const line of parseAuthorizedKeys(current)) {
    const plain = plainKeyOf(line);
    if (plain !== undefined) authorized.add(plain);
  }
  return keys.filter((ref) => authorized.has(manage(ref).base64));
}
