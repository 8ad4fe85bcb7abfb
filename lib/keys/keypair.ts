import { type KeyObject, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { InvalidKeyOptionsError } from "./errors.ts";
import { fingerprintOf } from "./fingerprint.ts";
import { encodeOpenSshPrivateKey } from "./openssh-format.ts";
import { sshKeyMaterialOf } from "./ssh-key-material.ts";
import type { KeyPair } from "./types.ts";

/**
 * Builds the {@link KeyPair} for a private key: the one place generated and
 * imported keys are normalised to OpenSSH format.
 */
export function buildKeyPair(key: KeyObject, comment: string): KeyPair {
  assertSingleLineComment(comment);
  const material = sshKeyMaterialOf(key);
  const encoded = material.publicBlob.toString("base64");
  const pair = {
    algorithm: material.algorithm,
    blob: material.publicBlob,
    fingerprint: fingerprintOf(material.publicBlob),
    bits: material.bits,
    comment,
    authorizedKey:
      comment === ""
        ? `${material.algorithm} ${encoded}`
        : `${material.algorithm} ${encoded} ${comment}`,
  };
  const privateKeyText = encodeOpenSshPrivateKey({
    publicBlob: material.publicBlob,
    privateKeyBlob: material.privateKeyBlob,
    comment,
    checkInt: randomBytes(4).readUInt32BE(),
  });
  // Non-enumerable keeps the private key out of JSON.stringify, console.log,
  // object spread and structured loggers; code that needs it reads it by name.
  Object.defineProperty(pair, "privateKey", { value: privateKeyText, enumerable: false });
  // util.inspect with showHidden would still list it; render the public view instead.
  Object.defineProperty(pair, inspect.custom, {
    value: (_depth: number, options: object) => inspect({ ...pair }, options),
    enumerable: false,
  });
  return pair as KeyPair;
}

/** A comment with a line break would split the authorized_keys entry in two. */
export function assertSingleLineComment(comment: string): void {
  if (/[\r\n\0]/.test(comment)) {
    throw new InvalidKeyOptionsError(
      "The key comment must be a single line: line breaks would split the authorized_keys entry. " +
        "Remove them from the comment.",
    );
  }
}
