/**
 * The OpenSSH private key file format ("openssh-key-v1", see OpenSSH's
 * PROTOCOL.key). No library serialises it from raw key fields, so the
 * unencrypted writer lives here; decryption is left to ssh2. Pure.
 */

import { formatArmor } from "./armor.ts";
import { UnparseableKeyError } from "./errors.ts";
import { SshReader, sshString, sshUint32, WireFormatError } from "./ssh-wire.ts";

export const OPENSSH_LABEL = "OPENSSH PRIVATE KEY";

const MAGIC = Buffer.from("openssh-key-v1\0", "latin1");
// ssh-keygen wraps the base64 body at 70 columns; matching it keeps files diff-identical in shape.
const LINE_WIDTH = 70;
// Cipher block size for "none"; the private section is padded to a multiple of it.
const BLOCK_SIZE = 8;

export interface OpenSshPrivateKeyParts {
  /** SSH wire-format public key. */
  publicBlob: Buffer;
  /** Type string followed by the type's private fields, as PROTOCOL.key lays them out. */
  privateKeyBlob: Buffer;
  comment: string;
  /** Check value written twice; it only detects a wrong passphrase, so any value is valid unencrypted. */
  checkInt: number;
}

/** Serialises an unencrypted OpenSSH private key file (trailing newline included, as OpenSSH expects). */
export function encodeOpenSshPrivateKey(parts: OpenSshPrivateKeyParts): string {
  const unpadded = Buffer.concat([
    sshUint32(parts.checkInt),
    sshUint32(parts.checkInt),
    parts.privateKeyBlob,
    sshString(parts.comment),
  ]);
  const padLength = (BLOCK_SIZE - (unpadded.length % BLOCK_SIZE)) % BLOCK_SIZE;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const body = Buffer.concat([
    MAGIC,
    sshString("none"), // cipher
    sshString("none"), // kdf
    sshString(Buffer.alloc(0)), // kdf options
    sshUint32(1), // number of keys
    sshString(parts.publicBlob),
    sshString(Buffer.concat([unpadded, padding])),
  ]);
  return formatArmor(OPENSSH_LABEL, body, { lineWidth: LINE_WIDTH });
}

/** The parts of an OpenSSH private key file that are readable without the passphrase. */
export interface OpenSshEnvelope {
  /** `"none"` when the key is not encrypted. */
  cipherName: string;
  /** `"none"` or `"bcrypt"`. */
  kdfName: string;
  /** Public key blobs stored in clear; ssh-keygen always writes exactly one. */
  publicBlobs: Buffer[];
  /** The private section as stored: encrypted unless `cipherName` is `"none"`. */
  privateSection: Buffer;
}

/** Reads the cleartext header of an OpenSSH private key file body (the base64-decoded armor). */
export function decodeOpenSshEnvelope(body: Buffer): OpenSshEnvelope {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new UnparseableKeyError("the OpenSSH key does not start with the openssh-key-v1 marker");
  }
  try {
    const reader = new SshReader(body.subarray(MAGIC.length));
    const cipherName = reader.readUtf8();
    const kdfName = reader.readUtf8();
    reader.readString(); // kdf options, interpreted by ssh2
    const count = reader.readUint32();
    if (count === 0) throw new WireFormatError("no keys");
    const publicBlobs: Buffer[] = [];
    for (let i = 0; i < count; i++) publicBlobs.push(reader.readString());
    const privateSection = reader.readString(); // possibly encrypted
    return { cipherName, kdfName, publicBlobs, privateSection };
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    throw new UnparseableKeyError("the OpenSSH key structure is truncated or corrupt", {
      cause: error,
    });
  }
}
