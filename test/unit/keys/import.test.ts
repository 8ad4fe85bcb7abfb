import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import {
  generateKeyPair,
  InvalidKeyOptionsError,
  importPrivateKey,
  UnparseableKeyError,
} from "../../../lib/keys/index.ts";
import { encodeOpenSshPrivateKey } from "../../../lib/keys/openssh-format.ts";
import { sshKeyMaterialOf } from "../../../lib/keys/ssh-key-material.ts";

const passphrase = "s3cret passphrase";

/** Reads our OpenSSH output back with ssh2 (an independent parser) as a node:crypto key. */
function readBackWithSsh2(openSshPrivateKey: string): KeyObject {
  const parsed = ssh2.utils.parseKey(openSshPrivateKey);
  if (parsed instanceof Error) throw parsed;
  return createPrivateKey(parsed.getPrivatePEM());
}

const sameKey = (a: KeyObject, b: KeyObject) =>
  expect(a.export({ format: "jwk" })).toEqual(b.export({ format: "jwk" }));

const nodeKeys = {
  ed25519: () => generateKeyPairSync("ed25519").privateKey,
  rsa: () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
  p256: () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey,
  p384: () => generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey,
  p521: () => generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey,
};

const pemCases: Array<{ label: string; key: () => KeyObject; type: "pkcs1" | "sec1" | "pkcs8" }> = [
  { label: "ed25519 PKCS#8", key: nodeKeys.ed25519, type: "pkcs8" },
  { label: "RSA PKCS#1", key: nodeKeys.rsa, type: "pkcs1" },
  { label: "RSA PKCS#8", key: nodeKeys.rsa, type: "pkcs8" },
  { label: "P-256 SEC1", key: nodeKeys.p256, type: "sec1" },
  { label: "P-384 PKCS#8", key: nodeKeys.p384, type: "pkcs8" },
  { label: "P-521 SEC1", key: nodeKeys.p521, type: "sec1" },
];

describe("importPrivateKey", () => {
  it.each(pemCases.map((c) => [c.label, c] as const))(
    "keeps every number of a %s key when normalising it to OpenSSH format",
    (_label, { key, type }) => {
      const original = key();
      const pem = original.export({ type, format: "pem" }).toString();

      const pair = importPrivateKey(pem);

      sameKey(readBackWithSsh2(pair.privateKey), original);
    },
  );

  it.each(pemCases.filter((c) => c.type !== "pkcs8").map((c) => [c.label, c] as const))(
    "decrypts a legacy-encrypted %s key (Proc-Type/DEK-Info)",
    (_label, { key, type }) => {
      const original = key();
      const pem = original
        .export({ type, format: "pem", cipher: "aes-128-cbc", passphrase })
        .toString();
      expect(pem).toContain("Proc-Type: 4,ENCRYPTED");

      sameKey(readBackWithSsh2(importPrivateKey(pem, { passphrase }).privateKey), original);
    },
  );

  it("decrypts an encrypted PKCS#8 key and writes it back unencrypted", () => {
    const original = nodeKeys.ed25519();
    const pem = original
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase })
      .toString();

    const pair = importPrivateKey(pem, { passphrase });

    // One format downstream: unencrypted OpenSSH, importable without the passphrase.
    expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(importPrivateKey(pair.privateKey).fingerprint).toBe(pair.fingerprint);
    sameKey(readBackWithSsh2(pair.privateKey), original);
  });

  it("tolerates CRLF line endings and surrounding whitespace", () => {
    const generated = generateKeyPair({ comment: "crlf" });
    const pem = nodeKeys.rsa().export({ type: "pkcs1", format: "pem" }).toString();

    for (const text of [generated.privateKey, pem]) {
      const messy = `\r\n  \t${text.replace(/\n/g, "\r\n")}  \r\n\r\n`;
      expect(importPrivateKey(messy).fingerprint).toBe(importPrivateKey(text).fingerprint);
    }
  });

  it("accepts the key file as a Buffer", () => {
    const pair = generateKeyPair();
    expect(importPrivateKey(Buffer.from(pair.privateKey)).fingerprint).toBe(pair.fingerprint);
  });

  it("ignores a passphrase given for an unencrypted key", () => {
    const pair = generateKeyPair({ type: "ecdsa" });
    const pem = nodeKeys.rsa().export({ type: "pkcs8", format: "pem" }).toString();

    expect(importPrivateKey(pair.privateKey, { passphrase }).fingerprint).toBe(pair.fingerprint);
    expect(importPrivateKey(pem, { passphrase }).fingerprint).toBe(
      importPrivateKey(pem).fingerprint,
    );
  });

  it("keeps the comment stored in an OpenSSH key, and PEM keys have none", () => {
    const pair = generateKeyPair({ comment: "alice@laptop" });
    const pem = nodeKeys.ed25519().export({ type: "pkcs8", format: "pem" }).toString();

    expect(importPrivateKey(pair.privateKey).comment).toBe("alice@laptop");
    expect(importPrivateKey(pem).comment).toBe("");
    expect(importPrivateKey(pem).authorizedKey.split(" ")).toHaveLength(2);
  });

  it("uses the comment option instead of the stored comment", () => {
    const pair = generateKeyPair({ comment: "old" });

    const imported = importPrivateKey(pair.privateKey, { comment: "deploy@fleet" });

    expect(imported.comment).toBe("deploy@fleet");
    expect(imported.authorizedKey.endsWith(" deploy@fleet")).toBe(true);
    expect(importPrivateKey(imported.privateKey).comment).toBe("deploy@fleet");
  });

  it("refuses a comment option with a line break", () => {
    const pair = generateKeyPair();
    expect(() => importPrivateKey(pair.privateKey, { comment: "a\nssh-rsa AAAA evil" })).toThrow(
      InvalidKeyOptionsError,
    );
  });

  it("flattens line breaks in a stored comment so the authorized_keys line stays one line", () => {
    const material = sshKeyMaterialOf(nodeKeys.ed25519());
    const text = encodeOpenSshPrivateKey({ ...material, comment: "two\nlines", checkInt: 7 });

    const pair = importPrivateKey(text);

    expect(pair.comment).toBe("two lines");
    expect(pair.authorizedKey).not.toContain("\n");
  });

  it("refuses an OpenSSH key whose public half belongs to a different key", () => {
    const mine = sshKeyMaterialOf(nodeKeys.ed25519());
    const other = sshKeyMaterialOf(nodeKeys.ed25519());
    const text = encodeOpenSshPrivateKey({
      publicBlob: other.publicBlob,
      privateKeyBlob: mine.privateKeyBlob,
      comment: "",
      checkInt: 1,
    });

    expect(() => importPrivateKey(text)).toThrow(UnparseableKeyError);
  });
});
