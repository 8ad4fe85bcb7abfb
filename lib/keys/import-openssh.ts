import { createPrivateKey, type KeyObject } from "node:crypto";
import keyParser from "ssh2/lib/protocol/keyParser.js";
import { type Armor, formatArmor } from "./armor.ts";
import { classifySsh2Failure, type DecodeContext } from "./classify-failure.ts";
import { MissingPassphraseError, UnparseableKeyError, UnsupportedKeyTypeError } from "./errors.ts";
import { buildKeyPair } from "./keypair.ts";
import { decodeOpenSshEnvelope, OPENSSH_LABEL } from "./openssh-format.ts";
import { decodePublicBlob } from "./public-key.ts";
import type { KeyPair } from "./types.ts";

// Ciphers ssh2 decrypts correctly in key files. It lists chacha20-poly1305 as
// supported but fails on it in key files, so that one is refused up front.
const DECRYPTABLE_CIPHERS = new Set([
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-cbc",
  "aes192-cbc",
  "aes256-cbc",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
]);

/** Imports an `-----BEGIN OPENSSH PRIVATE KEY-----` block. */
export function importOpenSshKey(
  armor: Armor,
  passphrase: string | undefined,
  comment: string | undefined,
): KeyPair {
  const envelope = decodeOpenSshEnvelope(armor.body);
  const [publicBlob, ...others] = envelope.publicBlobs;
  if (publicBlob === undefined || others.length > 0) {
    throw new UnsupportedKeyTypeError(
      `OpenSSH key file holding ${envelope.publicBlobs.length} keys`,
      "Store one key per file, as ssh-keygen does.",
    );
  }
  // The public half is stored in clear: refuse DSA, short RSA, certificates
  // and unknown types before asking for a passphrase.
  decodePublicBlob(publicBlob, { expected: "private key" });

  const context: DecodeContext = { format: "OpenSSH", encrypted: envelope.cipherName !== "none" };
  if (context.encrypted) {
    if (!DECRYPTABLE_CIPHERS.has(envelope.cipherName) || envelope.kdfName !== "bcrypt") {
      throw new UnsupportedKeyTypeError(
        `OpenSSH key encrypted with ${envelope.cipherName}/${envelope.kdfName}`,
        'Re-encrypt it with "ssh-keygen -p -Z aes256-ctr -f <keyfile>" and import it again.',
      );
    }
    if (passphrase === undefined) throw new MissingPassphraseError(context.format);
  }

  const parsed = keyParser.parseKey(
    formatArmor(OPENSSH_LABEL, armor.body, { lineWidth: 70 }),
    passphrase,
  );
  if (parsed instanceof Error) throw classifySsh2Failure(parsed, context);

  const pair = buildKeyPair(
    toKeyObject(parsed.getPrivatePEM()),
    comment ?? singleLine(parsed.comment),
  );
  if (!pair.blob.equals(publicBlob)) {
    throw new UnparseableKeyError("its private part does not match its public part");
  }
  return pair;
}

function toKeyObject(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new UnparseableKeyError("its private key numbers are invalid", { cause: error });
  }
}

/** Stored comments are free text; a line break in one must not break the authorized_keys line. */
function singleLine(comment: string): string {
  return comment.replace(/[\r\n\0]+/g, " ").trim();
}
