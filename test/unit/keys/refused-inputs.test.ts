/**
 * Catalogue of inputs importPrivateKey must refuse, each with the exact error
 * class a caller would branch on. Inputs are generated per run (ssh-keygen,
 * node:crypto); only the DSA keys come from static fixtures because current
 * OpenSSH cannot create them.
 */

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DsaKeyRefusedError,
  importPrivateKey,
  KeyError,
  MissingPassphraseError,
  PublicKeyNotPrivateError,
  RsaKeyTooShortError,
  UnparseableKeyError,
  UnsupportedKeyTypeError,
  WrongPassphraseError,
} from "../../../lib/keys/index.ts";
import { sshString, sshUint32 } from "../../../lib/keys/ssh-wire.ts";
import { captureError } from "./support/capture-error.ts";
import { type GeneratedKey, KeyDir, sshKeygen } from "./support/ssh-keygen.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/keys");
const passphrase = "the right passphrase";

const dir = new KeyDir();
let keys: {
  ed25519: GeneratedKey;
  rsa: GeneratedKey;
  rsa1024: GeneratedKey;
  ed25519Encrypted: GeneratedKey;
  ed25519EncryptedGcm: GeneratedKey;
  ed25519EncryptedChacha: GeneratedKey;
  rsaLegacyEncrypted: GeneratedKey;
  certificate: string;
  rfc4716: string;
  hashedKnownHosts: string;
};

beforeAll(() => {
  const ed25519 = dir.generate(["-t", "ed25519"]);
  const ca = dir.generate(["-t", "ed25519"], "test-ca");
  sshKeygen(["-q", "-s", ca.file, "-I", "deploy-cert", "-n", "deploy", ed25519.publicFile]);
  const knownHosts = dir.write(`host.example.com ${ed25519.publicKey}`, 0o644);
  sshKeygen(["-q", "-H", "-f", knownHosts]);
  keys = {
    ed25519,
    rsa: dir.generate(["-t", "rsa", "-b", "2048"]),
    rsa1024: dir.generate(["-t", "rsa", "-b", "1024"]),
    ed25519Encrypted: dir.generate(["-t", "ed25519", "-N", passphrase]),
    ed25519EncryptedGcm: dir.generate([
      "-t",
      "ed25519",
      "-N",
      passphrase,
      "-Z",
      "aes256-gcm@openssh.com",
    ]),
    ed25519EncryptedChacha: dir.generate([
      "-t",
      "ed25519",
      "-N",
      passphrase,
      "-Z",
      "chacha20-poly1305@openssh.com",
    ]),
    rsaLegacyEncrypted: dir.generate(["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", passphrase]),
    certificate: readFileSync(`${ed25519.file}-cert.pub`, "utf8"),
    rfc4716: sshKeygen(["-e", "-f", ed25519.publicFile]),
    hashedKnownHosts: readFileSync(knownHosts, "utf8"),
  };
});
afterAll(() => dir.remove());

const rsaKey = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
const pkcs8 = (key: ReturnType<typeof rsaKey>) =>
  key.export({ type: "pkcs8", format: "pem" }).toString();
const encryptedPkcs8 = (key: ReturnType<typeof rsaKey>) =>
  key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }).toString();
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

/** Lines 1..n/2 of a key file: a copy-paste that stopped half way. */
const firstHalf = (text: string) => {
  const lines = text.trim().split("\n");
  return lines.slice(0, Math.ceil(lines.length / 2)).join("\n");
};
/** The key with two body lines gone but BEGIN/END intact, so the base64 itself stays valid. */
const withoutMiddleLines = (text: string) => {
  const lines = text.trim().split("\n");
  lines.splice(2, 2);
  return lines.join("\n");
};
/** One character of the base64 body replaced by a non-base64 character. */
const withBadBase64 = (text: string) => {
  const lines = text.trim().split("\n");
  const line = lines[2] ?? "";
  lines[2] = `${line.slice(0, 10)}*${line.slice(11)}`;
  return lines.join("\n");
};
/** Still valid base64, but the DER structure's first byte is no longer a SEQUENCE tag. */
const withCorruptDer = (text: string) => text.replace(/^(-----BEGIN [A-Z ]+-----\n)M/, "$1A");

function puttyPrivateKey(publicKeyLine: string): string {
  const blob = publicKeyLine.split(" ")[1] ?? "";
  return [
    "PuTTY-User-Key-File-3: ssh-ed25519",
    "Encryption: none",
    "Comment: keyheal-test",
    "Public-Lines: 2",
    blob.slice(0, 64),
    blob.slice(64),
    "Private-Lines: 1",
    randomBytes(36).toString("base64"),
    `Private-MAC: ${randomBytes(32).toString("hex")}`,
  ].join("\n");
}

type KeyErrorClass = abstract new (...args: never[]) => KeyError;

const catalogue: Array<{
  name: string;
  input: () => string | Buffer;
  passphrase?: string;
  error: KeyErrorClass;
}> = [
  { name: "an empty string", input: () => "", error: UnparseableKeyError },
  {
    name: "only whitespace and line breaks",
    input: () => "  \r\n\t\n ",
    error: UnparseableKeyError,
  },
  {
    name: "random text",
    input: () => "this is not a key, it is a shopping list",
    error: UnparseableKeyError,
  },
  { name: "random binary bytes", input: () => randomBytes(256), error: UnparseableKeyError },
  {
    name: "a PEM key cut off half way",
    input: () => firstHalf(pkcs8(rsaKey())),
    error: UnparseableKeyError,
  },
  {
    name: "an OpenSSH key cut off half way",
    input: () => firstHalf(keys.rsa.privateKey),
    error: UnparseableKeyError,
  },
  {
    name: "an OpenSSH key with lines missing from the middle",
    input: () => withoutMiddleLines(keys.rsa.privateKey),
    error: UnparseableKeyError,
  },
  {
    name: "an OpenSSH key with a corrupted base64 body",
    input: () => withBadBase64(keys.ed25519.privateKey),
    error: UnparseableKeyError,
  },
  {
    name: "a PKCS#8 key with a corrupted base64 body",
    input: () => withBadBase64(pkcs8(rsaKey())),
    error: UnparseableKeyError,
  },
  {
    name: "a PKCS#8 key whose DER is corrupt",
    input: () => withCorruptDer(pkcs8(rsaKey())),
    error: UnparseableKeyError,
  },
  {
    name: "a PEM header with the wrong footer",
    input: () => pkcs8(rsaKey()).replace("END PRIVATE KEY", "END RSA PRIVATE KEY"),
    error: UnparseableKeyError,
  },
  {
    name: "an ed25519 public key line",
    input: () => keys.ed25519.publicKey,
    error: PublicKeyNotPrivateError,
  },
  {
    name: "the .pub file of an RSA key",
    input: () => keys.rsa.publicKey,
    error: PublicKeyNotPrivateError,
  },
  {
    name: "a known_hosts line",
    input: () => `host.example.com,10.0.0.7 ${keys.rsa.publicKey}`,
    error: PublicKeyNotPrivateError,
  },
  {
    name: "a hashed known_hosts line",
    input: () => keys.hashedKnownHosts,
    error: PublicKeyNotPrivateError,
  },
  {
    name: "an authorized_keys line with options",
    input: () => `from="10.0.0.0/8",no-pty ${keys.ed25519.publicKey}`,
    error: PublicKeyNotPrivateError,
  },
  {
    name: "a PEM (SPKI) public key",
    input: () =>
      generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString(),
    error: PublicKeyNotPrivateError,
  },
  { name: "an RFC 4716 public key", input: () => keys.rfc4716, error: PublicKeyNotPrivateError },
  {
    name: "a DSA key in PKCS#8",
    input: () =>
      generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    error: DsaKeyRefusedError,
  },
  {
    name: "a DSA key in encrypted PKCS#8",
    input: () =>
      encryptedPkcs8(
        generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).privateKey,
      ),
    passphrase,
    error: DsaKeyRefusedError,
  },
  {
    name: "a DSA key in OpenSSH format",
    input: () => fixture("dsa-openssh.key"),
    error: DsaKeyRefusedError,
  },
  {
    name: "a DSA key in legacy PEM",
    input: () => fixture("dsa-pem.key"),
    error: DsaKeyRefusedError,
  },
  {
    name: "a 1024-bit RSA key in PKCS#1",
    input: () =>
      generateKeyPairSync("rsa", { modulusLength: 1024 })
        .privateKey.export({ type: "pkcs1", format: "pem" })
        .toString(),
    error: RsaKeyTooShortError,
  },
  {
    name: "a 1024-bit RSA key in OpenSSH format",
    input: () => keys.rsa1024.privateKey,
    error: RsaKeyTooShortError,
  },
  {
    name: "an encrypted OpenSSH key without a passphrase",
    input: () => keys.ed25519Encrypted.privateKey,
    error: MissingPassphraseError,
  },
  {
    name: "an encrypted OpenSSH key with an empty passphrase",
    input: () => keys.ed25519Encrypted.privateKey,
    passphrase: "",
    error: MissingPassphraseError,
  },
  {
    name: "an encrypted PKCS#8 key without a passphrase",
    input: () => encryptedPkcs8(rsaKey()),
    error: MissingPassphraseError,
  },
  {
    name: "a legacy encrypted PEM key without a passphrase",
    input: () => keys.rsaLegacyEncrypted.privateKey,
    error: MissingPassphraseError,
  },
  {
    name: "an encrypted OpenSSH key with the wrong passphrase",
    input: () => keys.ed25519Encrypted.privateKey,
    passphrase: "not it",
    error: WrongPassphraseError,
  },
  {
    name: "an aes256-gcm encrypted OpenSSH key with the wrong passphrase",
    input: () => keys.ed25519EncryptedGcm.privateKey,
    passphrase: "not it",
    error: WrongPassphraseError,
  },
  {
    name: "an encrypted PKCS#8 key with the wrong passphrase",
    input: () => encryptedPkcs8(rsaKey()),
    passphrase: "not it",
    error: WrongPassphraseError,
  },
  {
    name: "a legacy encrypted PEM key with the wrong passphrase",
    input: () => keys.rsaLegacyEncrypted.privateKey,
    passphrase: "not it",
    error: WrongPassphraseError,
  },
  {
    name: "an OpenSSH certificate",
    input: () => keys.certificate,
    error: UnsupportedKeyTypeError,
  },
  {
    name: "a PuTTY PPK key",
    input: () => puttyPrivateKey(keys.ed25519.publicKey),
    error: UnsupportedKeyTypeError,
  },
  {
    name: "an ed448 key in PKCS#8",
    input: () =>
      generateKeyPairSync("ed448").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    error: UnsupportedKeyTypeError,
  },
  {
    name: "an x25519 key in PKCS#8",
    input: () =>
      generateKeyPairSync("x25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    error: UnsupportedKeyTypeError,
  },
  {
    name: "a secp256k1 key in SEC1",
    input: () =>
      generateKeyPairSync("ec", { namedCurve: "secp256k1" })
        .privateKey.export({ type: "sec1", format: "pem" })
        .toString(),
    error: UnsupportedKeyTypeError,
  },
  {
    name: "an RSA-PSS key in PKCS#8",
    input: () =>
      generateKeyPairSync("rsa-pss", { modulusLength: 2048 })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    error: UnsupportedKeyTypeError,
  },
  {
    name: "an OpenSSH key encrypted with chacha20-poly1305",
    input: () => keys.ed25519EncryptedChacha.privateKey,
    passphrase,
    error: UnsupportedKeyTypeError,
  },
  {
    name: "a PEM block of an unknown kind",
    input: () =>
      `-----BEGIN SECRET SAUCE-----\n${randomBytes(48).toString("base64")}\n-----END SECRET SAUCE-----`,
    error: UnsupportedKeyTypeError,
  },
];

describe("importPrivateKey refuses", () => {
  const rows = catalogue.map((row) => [row.name, row.error.name, row] as const);
  it.each(rows)("%s with %s", (_name, _errorName, { input, passphrase: given, error }) => {
    const text = input();
    const thrown = captureError(() =>
      importPrivateKey(text, given === undefined ? {} : { passphrase: given }),
    );

    expect(thrown).toBeInstanceOf(error);
    expect(thrown).toBeInstanceOf(KeyError);
    const { name, message } = thrown as KeyError;
    expect(name).toBe(error.name);
    // Messages must be safe to log: no passphrase, no base64 key material.
    if (given) expect(message).not.toContain(given);
    const base64Chunks = text.toString().match(/[A-Za-z0-9+/=]{16,}/g) ?? [];
    for (const chunk of base64Chunks) expect(message).not.toContain(chunk);
  });

  it("reports the size of a refused RSA key", () => {
    const thrown = captureError(() => importPrivateKey(keys.rsa1024.privateKey));
    expect(thrown).toBeInstanceOf(RsaKeyTooShortError);
    expect((thrown as RsaKeyTooShortError).bits).toBe(1024);
  });

  it("keeps the library error as the cause of a wrong passphrase", () => {
    const thrown = captureError(() =>
      importPrivateKey(keys.rsaLegacyEncrypted.privateKey, { passphrase: "not it" }),
    );
    expect(thrown).toBeInstanceOf(WrongPassphraseError);
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });

  it("refuses a DSA key before asking for its passphrase", () => {
    // An encrypted OpenSSH DSA key: only the cleartext header matters, since
    // the refusal must come before any decryption is attempted.
    const dsaBlob = Buffer.from(fixture("dsa-openssh.pub").split(" ")[1] ?? "", "base64");
    const body = Buffer.concat([
      Buffer.from("openssh-key-v1\0", "latin1"),
      sshString("aes256-ctr"),
      sshString("bcrypt"),
      sshString(Buffer.concat([sshString(randomBytes(16)), sshUint32(16)])),
      sshUint32(1),
      sshString(dsaBlob),
      sshString(randomBytes(64)),
    ]);
    const armored = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString("base64")}\n-----END OPENSSH PRIVATE KEY-----`;

    expect(() => importPrivateKey(armored)).toThrow(DsaKeyRefusedError);
  });
});
