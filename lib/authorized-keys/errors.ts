/** Why a line is `unparseable`. */
export type UnparseableReason =
  /** An options value opens a double quote that never closes. */
  | "unclosed-quote"
  /** The options are ones OpenSSH refuses (unknown name, bad value, repeated clause). */
  | "bad-options"
  /** The key data is not strict base64 or does not start with a key type. */
  | "bad-key-data"
  /** No key type followed by key data was found. */
  | "missing-key"
  /** The declared key type differs from the blob's; sshd ignores such a line. */
  | "type-mismatch"
  /** The declared type differs from the blob's but is a name sshd may accept for it. */
  | "ambiguous-type"
  /** The line holds a NUL byte, where OpenSSH's C strings would stop reading. */
  | "nul-byte";

/** Base class of every error raised while reading or editing an authorized_keys file. */
export class AuthorizedKeysError extends Error {
  override name = "AuthorizedKeysError";
}

/**
 * A line that holds a key the edit must remove cannot be parsed with certainty, so the
 * edit cannot tell whether sshd honours it. Nothing is written; a person has to fix the line.
 */
export class UnparseableLineError extends AuthorizedKeysError {
  /** 1-based line number in the input file. */
  readonly lineNumber: number;
  /** Why the line could not be parsed. */
  readonly reason: UnparseableReason;
  /** `SHA256:` fingerprint of the managed key the line mentions. */
  readonly fingerprint: string;

  constructor(
    lineNumber: number,
    reason: UnparseableReason,
    detail: string,
    fingerprint: string,
    options?: ErrorOptions,
  ) {
    super(
      `authorized_keys line ${lineNumber} mentions key ${fingerprint}, which must be removed, ` +
        `but the line cannot be parsed (${detail}). Nothing was changed: fix or delete ` +
        `line ${lineNumber} by hand, then run again.`,
      options,
    );
    this.name = "UnparseableLineError";
    this.lineNumber = lineNumber;
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

/** The file, or one of its lines, is far larger than any real authorized_keys file. */
export class AuthorizedKeysTooLargeError extends AuthorizedKeysError {
  /** Whether the whole file or a single line is over the limit. */
  readonly scope: "file" | "line";
  /** Size found, in bytes (a line's size excludes its "\n"). */
  readonly size: number;
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  /** 1-based line number when `scope` is "line". */
  readonly lineNumber: number | undefined;

  constructor(
    scope: "file" | "line",
    size: number,
    limit: number,
    lineNumber?: number,
    options?: ErrorOptions,
  ) {
    const what = scope === "file" ? "authorized_keys" : `authorized_keys line ${lineNumber}`;
    super(
      `${what} is ${size} bytes, over the ${limit}-byte limit; this does not look like an ` +
        "authorized_keys file. Nothing was changed: check that the right file is targeted " +
        "and trim it by hand.",
      options,
    );
    this.name = "AuthorizedKeysTooLargeError";
    this.scope = scope;
    this.size = size;
    this.limit = limit;
    this.lineNumber = lineNumber;
  }
}

/** The same key is asked to be both present and absent: a bug in the caller. */
export class ConflictingKeyChangeError extends AuthorizedKeysError {
  readonly algorithm: string;
  /** `SHA256:` fingerprint of the conflicting key. */
  readonly fingerprint: string;

  constructor(algorithm: string, fingerprint: string, options?: ErrorOptions) {
    super(
      `key ${algorithm} ${fingerprint} is listed as both present and absent; a change must ` +
        "name each key on one side only. This is a bug in the caller, not in the file.",
      options,
    );
    this.name = "ConflictingKeyChangeError";
    this.algorithm = algorithm;
    this.fingerprint = fingerprint;
  }
}

/** A `KeyRef` handed to the editor is malformed: a bug in the caller. */
export class InvalidKeyRefError extends AuthorizedKeysError {
  /** Which part of the `KeyRef` is wrong. */
  readonly field: "algorithm" | "blob" | "comment";
  readonly algorithm: string;

  constructor(
    field: "algorithm" | "blob" | "comment",
    algorithm: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `invalid key reference (${field}) for ${JSON.stringify(algorithm)}: ${detail}. ` +
        "Build KeyRefs from a parsed public key.",
      options,
    );
    this.name = "InvalidKeyRefError";
    this.field = field;
    this.algorithm = algorithm;
  }
}
