import { createPrivateKey, type KeyObject } from "node:crypto";
import { type Armor, formatArmor } from "./armor.ts";
import { classifyOpenSslFailure, type DecodeContext } from "./classify-failure.ts";
import { MissingPassphraseError } from "./errors.ts";
import { buildKeyPair } from "./keypair.ts";
import type { KeyPair } from "./types.ts";

/** PEM labels node:crypto decodes, with the format name used in messages. */
export const PEM_PRIVATE_KEY_FORMATS: ReadonlyMap<string, string> = new Map([
  ["RSA PRIVATE KEY", "PKCS#1 PEM"],
  ["EC PRIVATE KEY", "SEC1 PEM"],
  ["PRIVATE KEY", "PKCS#8 PEM"],
  ["ENCRYPTED PRIVATE KEY", "PKCS#8 PEM"],
]);

/** Imports a PKCS#1, SEC1 or PKCS#8 PEM private key, encrypted or not. */
export function importPemKey(
  armor: Armor,
  passphrase: string | undefined,
  comment: string | undefined,
): KeyPair {
  const context: DecodeContext = {
    format: PEM_PRIVATE_KEY_FORMATS.get(armor.label) ?? armor.label,
    // PKCS#8 says so in its label; legacy PKCS#1/SEC1 encryption in a "Proc-Type: 4,ENCRYPTED" header.
    encrypted:
      armor.label === "ENCRYPTED PRIVATE KEY" ||
      (armor.headers.get("Proc-Type") ?? "").includes("ENCRYPTED"),
  };
  if (context.encrypted && passphrase === undefined) {
    throw new MissingPassphraseError(context.format);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: formatArmor(armor.label, armor.body, { headers: armor.headers }),
      format: "pem",
      passphrase,
    });
  } catch (error) {
    throw classifyOpenSslFailure(error, context);
  }
  return buildKeyPair(key, comment ?? "");
}
