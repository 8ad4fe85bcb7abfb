import { createPrivateKey } from "node:crypto";
import { format, inspect } from "node:util";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateKeyPair, importPrivateKey, type KeyPair } from "../../../lib/keys/index.ts";

const generated = generateKeyPair({ type: "ecdsa", comment: "logged" });
const pairs: Array<[string, KeyPair]> = [
  ["a generated key pair", generated],
  ["an imported key pair", importPrivateKey(generated.privateKey)],
];

/** Renderings of the private scalar that must never reach a log, plus the PEM marker. */
function secretParts(pair: KeyPair): string[] {
  const parsed = ssh2.utils.parseKey(pair.privateKey);
  if (parsed instanceof Error) throw parsed;
  const d = createPrivateKey(parsed.getPrivatePEM()).export({ format: "jwk" }).d ?? "";
  const scalar = Buffer.from(d, "base64url");
  expect(scalar.length).toBeGreaterThan(0);
  return [
    "PRIVATE KEY",
    scalar.toString("base64url"),
    scalar.toString("base64").replace(/=+$/, ""),
    scalar.toString("hex"),
  ];
}

describe("private key material stays out of logs", () => {
  it.each(pairs)(
    "%s serialises to JSON with its fingerprint but without the private key",
    (_name, pair) => {
      const json = JSON.stringify(pair);

      expect(json).toContain(pair.fingerprint);
      for (const secret of secretParts(pair)) expect(json).not.toContain(secret);
      expect(JSON.parse(json)).not.toHaveProperty("privateKey");
    },
  );

  it.each(pairs)("%s prints without the private key however it is inspected", (_name, pair) => {
    const renderings = [
      inspect(pair),
      inspect(pair, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
      format("%o", pair), // console.log("%o") shows hidden properties
      format("%O", pair),
      format("%j", pair),
      format("%s", pair),
      String(pair),
    ];

    for (const text of renderings) {
      for (const secret of secretParts(pair)) expect(text).not.toContain(secret);
    }
    expect(inspect(pair)).toContain(pair.fingerprint);
  });

  it.each(pairs)("%s leaves the private key out of spreads and key listings", (_name, pair) => {
    expect(Object.keys(pair)).not.toContain("privateKey");
    expect({ ...pair }).not.toHaveProperty("privateKey");
    expect(structuredClone(pair)).not.toHaveProperty("privateKey");
  });

  it.each(pairs)(
    "%s still hands the private key to code that asks for it by name",
    (_name, pair) => {
      expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
      expect("privateKey" in pair).toBe(true);
    },
  );
});
