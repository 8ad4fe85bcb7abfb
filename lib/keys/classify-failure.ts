/**
 * Maps a library's decode failure to a {@link KeyError}: a pure function of the
 * error and of what was known about the key before decoding.
 */

import {
  type KeyError,
  MissingPassphraseError,
  UnparseableKeyError,
  WrongPassphraseError,
} from "./errors.ts";

export interface DecodeContext {
  /** Human-readable key format, for messages. */
  format: string;
  /** Whether the key file says it is encrypted (decided from cleartext headers, before decoding). */
  encrypted: boolean;
}

/** Classifies a `crypto.createPrivateKey` failure by its `code`. */
export function classifyOpenSslFailure(error: unknown, context: DecodeContext): KeyError {
  const code = (error as { code?: unknown } | null)?.code;
  const options = { cause: error };
  // Node reports a missing passphrase either way, depending on how OpenSSL got to ask for it.
  if (code === "ERR_MISSING_PASSPHRASE" || code === "ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED") {
    return new MissingPassphraseError(context.format, options);
  }
  if (code === "ERR_OSSL_BAD_DECRYPT") return new WrongPassphraseError(context.format, options);
  // Legacy PEM encryption (CBC) decrypts a wrong passphrase to garbage with
  // valid padding about 1 time in 256; OpenSSL then fails in the ASN.1 decoder
  // with a generic code. For an encrypted key that can only mean the
  // passphrase is wrong or the ciphertext is damaged, which look the same.
  if (context.encrypted) return new WrongPassphraseError(context.format, options);
  return new UnparseableKeyError(
    `OpenSSL cannot decode this ${context.format} key, so it is corrupt or truncated`,
    options,
  );
}

/**
 * Classifies an ssh2 `parseKey` failure on an OpenSSH key. ssh2 returns plain
 * Errors without codes, so classification relies on what was checked before
 * calling it: the cleartext envelope was well formed and its cipher supported.
 * What remains for an encrypted key is the decryption check failing — a wrong
 * passphrase, or damaged ciphertext, which cannot be told apart.
 */
export function classifySsh2Failure(error: Error, context: DecodeContext): KeyError {
  if (context.encrypted) return new WrongPassphraseError(context.format, { cause: error });
  return new UnparseableKeyError(`the private part of this ${context.format} key is corrupt`, {
    cause: error,
  });
}
