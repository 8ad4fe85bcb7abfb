import type { KeyType, SshKeyAlgorithm } from "../contract/vocabulary.ts";

/** The kind of key {@link generateKeyPair} creates, and the algorithm an authorized_keys line names. */
export type { KeyType, SshKeyAlgorithm } from "../contract/vocabulary.ts";

/** ECDSA curve, named as in `ssh-keygen -t ecdsa -b 256|384|521`. */
export type EcdsaCurve = "p256" | "p384" | "p521";

/** A validated SSH public key. */
export interface PublicKey {
  algorithm: SshKeyAlgorithm;
  /** SSH wire-format public key (the base64-decoded second field of an authorized_keys line). */
  blob: Buffer;
  /** `SHA256:<base64, no padding>`, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** Key size as `ssh-keygen -l` reports it: RSA modulus bits, curve size for ECDSA, 256 for ed25519. */
  bits: number;
  /** Free-text comment; empty string when there is none. */
  comment: string;
}

/**
 * A private key with its public half.
 *
 * `privateKey` is a non-enumerable property, so `JSON.stringify`, `console.log`,
 * object spread and structured logging never include it; read it explicitly.
 */
export interface KeyPair extends PublicKey {
  /** authorized_keys line: `"<algorithm> <base64 blob> <comment>"` (no trailing newline; comment omitted when empty). */
  authorizedKey: string;
  /** Unencrypted OpenSSH-format private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), accepted by ssh2's client `privateKey` option and by `ssh -i`. */
  privateKey: string;
}

/** Options for {@link generateKeyPair}. */
export interface GenerateKeyPairOptions {
  /** Defaults to `"ed25519"`. */
  type?: KeyType;
  /** RSA modulus size, 2048..8192; defaults to 3072. Only valid with `type: "rsa"`. */
  bits?: number;
  /** ECDSA curve; defaults to `"p256"`. Only valid with `type: "ecdsa"`. */
  curve?: EcdsaCurve;
  /** Comment for the key (single line); defaults to none. */
  comment?: string;
}

/** Options for {@link importPrivateKey}. */
export interface ImportPrivateKeyOptions {
  /** Passphrase for an encrypted key; ignored when the key is not encrypted. */
  passphrase?: string;
  /** Replaces the comment stored in the key file (PEM formats carry none). */
  comment?: string;
}
