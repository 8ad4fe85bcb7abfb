import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DsaKeyRefusedError,
  type GenerateKeyPairOptions,
  generateKeyPair,
  type KeyError,
  parsePublicKey,
  RsaKeyTooShortError,
  UnparseableKeyError,
  UnsupportedKeyTypeError,
} from "../../../lib/keys/index.ts";
import { sshKeyMaterialOf } from "../../../lib/keys/ssh-key-material.ts";
import { sshMpint, sshString } from "../../../lib/keys/ssh-wire.ts";
import { captureError } from "./support/capture-error.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/keys");

/** An ssh-rsa blob built directly, since keyheal itself refuses to encode short RSA keys. */
function rsaPublicBlob(bits: number): Buffer {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({
    format: "jwk",
  });
  const number = (value: string | undefined) => sshMpint(Buffer.from(value ?? "", "base64url"));
  return Buffer.concat([sshString("ssh-rsa"), number(jwk.e), number(jwk.n)]);
}

const line = (type: string, blob: Buffer, comment = "") =>
  `${type} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;

describe("parsePublicKey", () => {
  it.each<GenerateKeyPairOptions>([
    { type: "ed25519" },
    { type: "rsa", bits: 2048 },
    { type: "ecdsa", curve: "p256" },
    { type: "ecdsa", curve: "p384" },
    { type: "ecdsa", curve: "p521" },
  ])("reads back the authorized_keys line of a generated %o key", (opts) => {
    const pair = generateKeyPair({ ...opts, comment: "ops@bastion" });

    const parsed = parsePublicKey(pair.authorizedKey);

    expect(parsed).toEqual({
      algorithm: pair.algorithm,
      blob: pair.blob,
      fingerprint: pair.fingerprint,
      bits: pair.bits,
      comment: "ops@bastion",
    });
  });

  it("keeps spaces inside the comment and returns an empty comment when there is none", () => {
    const pair = generateKeyPair();
    expect(parsePublicKey(`${pair.authorizedKey} build  server 7`).comment).toBe("build  server 7");
    expect(parsePublicKey(pair.authorizedKey).comment).toBe("");
  });

  it("tolerates CRLF and surrounding whitespace, as in a .pub file from Windows", () => {
    const pair = generateKeyPair({ comment: "win" });
    expect(parsePublicKey(`  ${pair.authorizedKey}\r\n`).fingerprint).toBe(pair.fingerprint);
  });

  const ed25519 = sshKeyMaterialOf(generateKeyPairSync("ed25519").privateKey).publicBlob;
  const p256 = sshKeyMaterialOf(
    generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey,
  ).publicBlob;
  const offCurve = Buffer.from(p256);
  offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] ?? 0) ^ 1;
  const rsa1024 = rsaPublicBlob(1024);

  it.each<[string, () => string, new (...args: never[]) => KeyError]>([
    ["an empty string", () => "", UnparseableKeyError],
    ["a type without key data", () => "ssh-ed25519", UnparseableKeyError],
    [
      "two public key lines",
      () => `${line("ssh-ed25519", ed25519)}\n${line("ssh-ed25519", ed25519)}`,
      UnparseableKeyError,
    ],
    ["key data that is not base64", () => "ssh-ed25519 AAAA!!!!", UnparseableKeyError],
    [
      "key data of another type than the line names",
      () => line("ssh-rsa", ed25519),
      UnparseableKeyError,
    ],
    ["truncated key data", () => line("ssh-ed25519", ed25519.subarray(0, 30)), UnparseableKeyError],
    [
      "an ed25519 key of the wrong length",
      () =>
        line("ssh-ed25519", Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(31))])),
      UnparseableKeyError,
    ],
    [
      "an ECDSA point that is not on the curve",
      () => line("ecdsa-sha2-nistp256", offCurve),
      UnparseableKeyError,
    ],
    ["a private key", () => generateKeyPair().privateKey, UnparseableKeyError],
    [
      "a known_hosts line",
      () => `host.example.com ${line("ssh-ed25519", ed25519)}`,
      UnparseableKeyError,
    ],
    [
      "a DSA public key",
      () => readFileSync(join(FIXTURES, "dsa-openssh.pub"), "utf8"),
      DsaKeyRefusedError,
    ],
    ["a 1024-bit RSA key", () => line("ssh-rsa", rsa1024), RsaKeyTooShortError],
    [
      "an OpenSSH certificate",
      () => {
        const type = "ssh-ed25519-cert-v01@openssh.com";
        return line(type, Buffer.concat([sshString(type), sshString(Buffer.alloc(32))]));
      },
      UnsupportedKeyTypeError,
    ],
    [
      "a FIDO security key",
      () => {
        const type = "sk-ssh-ed25519@openssh.com";
        return line(
          type,
          Buffer.concat([sshString(type), sshString(Buffer.alloc(32)), sshString("ssh:")]),
        );
      },
      UnsupportedKeyTypeError,
    ],
    [
      "an unknown key type",
      () => line("ssh-ed448", Buffer.concat([sshString("ssh-ed448"), sshString(Buffer.alloc(57))])),
      UnsupportedKeyTypeError,
    ],
  ])("refuses %s", (_name, input, error) => {
    expect(() => parsePublicKey(input())).toThrow(error);
  });

  it("reports the size of a refused RSA key", () => {
    const error = captureError(() => parsePublicKey(line("ssh-rsa", rsa1024)));
    expect(error).toBeInstanceOf(RsaKeyTooShortError);
    expect((error as RsaKeyTooShortError).bits).toBe(1024);
  });
});
