import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { resolveKeySpec } from "../../../lib/keys/generate.ts";
import {
  DsaKeyRefusedError,
  type GenerateKeyPairOptions,
  generateKeyPair,
  InvalidKeyOptionsError,
  importPrivateKey,
  type KeyError,
  parsePublicKey,
  RsaKeyTooShortError,
} from "../../../lib/keys/index.ts";
import { captureError } from "./support/capture-error.ts";

type Kind = { opts: GenerateKeyPairOptions; algorithm: string; bits: number };
const kinds: Array<[string, Kind]> = [
  ["ed25519", { opts: { type: "ed25519" }, algorithm: "ssh-ed25519", bits: 256 }],
  ["rsa (default 3072 bits)", { opts: { type: "rsa" }, algorithm: "ssh-rsa", bits: 3072 }],
  ["rsa 2048", { opts: { type: "rsa", bits: 2048 }, algorithm: "ssh-rsa", bits: 2048 }],
  ["rsa 4096", { opts: { type: "rsa", bits: 4096 }, algorithm: "ssh-rsa", bits: 4096 }],
  [
    "ecdsa (default p256)",
    { opts: { type: "ecdsa" }, algorithm: "ecdsa-sha2-nistp256", bits: 256 },
  ],
  [
    "ecdsa p384",
    { opts: { type: "ecdsa", curve: "p384" }, algorithm: "ecdsa-sha2-nistp384", bits: 384 },
  ],
  [
    "ecdsa p521",
    { opts: { type: "ecdsa", curve: "p521" }, algorithm: "ecdsa-sha2-nistp521", bits: 521 },
  ],
];

type ErrorClass = new (...args: never[]) => KeyError;

describe("generateKeyPair", () => {
  it("creates an ed25519 key when no type is given", () => {
    const pair = generateKeyPair();
    expect(pair.algorithm).toBe("ssh-ed25519");
    expect(pair.bits).toBe(256);
  });

  it.each(kinds)("creates %s keys", (_label, { opts, algorithm, bits }) => {
    const pair = generateKeyPair({ ...opts, comment: "deploy@fleet" });

    expect(pair.algorithm).toBe(algorithm);
    expect(pair.bits).toBe(bits);
    expect(pair.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(pair.authorizedKey).toBe(`${algorithm} ${pair.blob.toString("base64")} deploy@fleet`);
    expect(pair.privateKey).toMatch(
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
    );
  });

  it.each(kinds)("round-trips %s keys through importPrivateKey unchanged", (_label, { opts }) => {
    const pair = generateKeyPair({ ...opts, comment: "round trip" });
    const imported = importPrivateKey(pair.privateKey);

    expect(imported.fingerprint).toBe(pair.fingerprint);
    expect(imported.blob.equals(pair.blob)).toBe(true);
    expect(imported.comment).toBe("round trip");
    expect(imported.authorizedKey).toBe(pair.authorizedKey);
    expect(parsePublicKey(pair.authorizedKey).fingerprint).toBe(pair.fingerprint);
  });

  it.each(kinds)("writes %s private keys that ssh2 can sign with", (_label, { opts }) => {
    const pair = generateKeyPair(opts);
    const parsed = ssh2.utils.parseKey(pair.privateKey);
    if (parsed instanceof Error) throw parsed;

    expect(parsed.isPrivateKey()).toBe(true);
    expect(parsed.getPublicSSH().equals(pair.blob)).toBe(true);
    const signature = parsed.sign(Buffer.from("challenge"));
    expect(parsed.verify(Buffer.from("challenge"), signature)).toBe(true);
  });

  it("leaves the comment out of the authorized_keys line when there is none", () => {
    const pair = generateKeyPair();
    expect(pair.comment).toBe("");
    expect(pair.authorizedKey.split(" ")).toHaveLength(2);
  });

  it("creates a different key every time", () => {
    expect(generateKeyPair().fingerprint).not.toBe(generateKeyPair().fingerprint);
  });

  it("accepts RSA sizes from 2048 up to 8192 bits", () => {
    // Generating an 8192-bit key takes tens of seconds, so only the validation is exercised.
    expect(resolveKeySpec({ type: "rsa", bits: 8192 })).toEqual({ type: "rsa", bits: 8192 });
    expect(resolveKeySpec({ type: "rsa", bits: 2048 })).toEqual({ type: "rsa", bits: 2048 });
  });

  it.each<[string, GenerateKeyPairOptions, ErrorClass]>([
    ["RSA under 2048 bits", { type: "rsa", bits: 1024 }, RsaKeyTooShortError],
    ["RSA over 8192 bits", { type: "rsa", bits: 8193 }, InvalidKeyOptionsError],
    ["fractional RSA bits", { type: "rsa", bits: 2048.5 }, InvalidKeyOptionsError],
    ["NaN RSA bits", { type: "rsa", bits: Number.NaN }, InvalidKeyOptionsError],
    ["bits for ed25519", { bits: 256 }, InvalidKeyOptionsError],
    ["bits for ecdsa", { type: "ecdsa", bits: 384 }, InvalidKeyOptionsError],
    ["a curve for rsa", { type: "rsa", curve: "p256" }, InvalidKeyOptionsError],
    ["an unknown curve", { type: "ecdsa", curve: "p224" as "p256" }, InvalidKeyOptionsError],
    ["an unknown type", { type: "ed448" as "ed25519" }, InvalidKeyOptionsError],
    ["DSA", { type: "dsa" as "ed25519" }, DsaKeyRefusedError],
    ["a multi-line comment", { comment: "a\nb" }, InvalidKeyOptionsError],
  ])("refuses %s", (_name, opts, error) => {
    expect(() => generateKeyPair(opts)).toThrow(error);
  });

  it("reports the refused RSA size on the error", () => {
    const error = captureError(() => generateKeyPair({ type: "rsa", bits: 1024 }));
    expect(error).toBeInstanceOf(RsaKeyTooShortError);
    expect((error as RsaKeyTooShortError).bits).toBe(1024);
  });
});
