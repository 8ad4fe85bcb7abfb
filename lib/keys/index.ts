/**
 * SSH key handling: generate, import and parse keys, normalised to OpenSSH
 * format with `ssh-keygen`-compatible fingerprints.
 *
 * @module
 */

export {
  DsaKeyRefusedError,
  InvalidKeyOptionsError,
  KeyError,
  MissingPassphraseError,
  PublicKeyNotPrivateError,
  RsaKeyTooShortError,
  UnparseableKeyError,
  UnsupportedKeyTypeError,
  WrongPassphraseError,
} from "./errors.ts";
export { fingerprintOf } from "./fingerprint.ts";
export { generateKeyPair } from "./generate.ts";
export { importPrivateKey } from "./import.ts";
export { parsePublicKey } from "./public-key.ts";
export type {
  EcdsaCurve,
  GenerateKeyPairOptions,
  ImportPrivateKeyOptions,
  KeyPair,
  KeyType,
  PublicKey,
  SshKeyAlgorithm,
} from "./types.ts";
