import keyParser from "ssh2/lib/protocol/keyParser.js";
import { describe, expect, it } from "vitest";
import { PublicKeyNotPrivateError, UnparseableKeyError } from "../../../lib/keys/errors.ts";
import { generateKeyPair, importPrivateKey } from "../../../lib/keys/index.ts";
import { ParsedKeyCache } from "../../../lib/keys/parsed-key-cache.ts";
import type { GenerateKeyPairOptions } from "../../../lib/keys/types.ts";

const DATA = Buffer.from("session id and userauth request");

describe("parsed key cache", () => {
  it.each<[string, GenerateKeyPairOptions, Array<string | undefined>]>([
    ["ed25519", { type: "ed25519" }, [undefined]],
    ["rsa", { type: "rsa", bits: 2048 }, [undefined, "sha256", "sha512"]],
    ["ecdsa p256", { type: "ecdsa", curve: "p256" }, [undefined]],
    ["ecdsa p384", { type: "ecdsa", curve: "p384" }, [undefined]],
    ["ecdsa p521", { type: "ecdsa", curve: "p521" }, [undefined]],
  ])("a cached %s key signs what ssh2's own parse of it verifies", (_name, options, algos) => {
    const pair = generateKeyPair(options);
    const key = new ParsedKeyCache().get(pair.fingerprint, pair.privateKey);
    const reference = keyParser.parseKey(pair.privateKey);
    if (reference instanceof Error) throw reference;
    for (const algo of algos) {
      const signature = key.sign(DATA, algo);
      expect(signature).toBeInstanceOf(Buffer);
      expect(reference.verify(DATA, signature as Buffer, algo)).toBe(true);
      expect(reference.verify(Buffer.from("other data"), signature as Buffer, algo)).toBe(false);
    }
    expect(key.getPublicSSH().equals(reference.getPublicSSH())).toBe(true);
  });

  it("parses a key once per fingerprint and hands the same parsed key to every connection", () => {
    const pair = generateKeyPair();
    const cache = new ParsedKeyCache();
    const first = cache.get(pair.fingerprint, pair.privateKey);
    expect(cache.get(pair.fingerprint, pair.privateKey)).toBe(first);
    expect(cache.size).toBe(1);
  });

  it("issue 12.3: the same key read again from the key store, in a new encoding, is not parsed again", () => {
    const pair = generateKeyPair({ type: "rsa", bits: 2048 });
    // What the key store hands each task: the stored key imported again, re-encoded with a new
    // random check value, so the text differs while the key does not.
    const [first, second] = [importPrivateKey(pair.privateKey), importPrivateKey(pair.privateKey)];
    expect(first.privateKey).not.toBe(second.privateKey);
    const cache = new ParsedKeyCache();
    const parsed = cache.get(first.fingerprint, first.privateKey);
    expect(cache.get(second.fingerprint, second.privateKey)).toBe(parsed);
    expect(cache.size).toBe(1);
  });

  it("replaces a cached key when another private key arrives under the same fingerprint", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const cache = new ParsedKeyCache();
    cache.get("SHA256:same", a.privateKey);
    const key = cache.get("SHA256:same", b.privateKey);
    const reference = keyParser.parseKey(b.privateKey);
    if (reference instanceof Error) throw reference;
    expect(key.getPublicSSH().equals(reference.getPublicSSH())).toBe(true);
  });

  it("keeps at most its size, dropping the least recently used key", () => {
    const cache = new ParsedKeyCache(2);
    const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    const keyA = cache.get(a.fingerprint, a.privateKey);
    cache.get(b.fingerprint, b.privateKey);
    cache.get(a.fingerprint, a.privateKey); // a is now the most recent
    cache.get(c.fingerprint, c.privateKey); // b goes
    expect(cache.size).toBe(2);
    expect(cache.get(a.fingerprint, a.privateKey)).toBe(keyA);
  });

  it("refuses a string that is no key, and a public key, naming what to pass", () => {
    const cache = new ParsedKeyCache();
    expect(() => cache.get("SHA256:x", "not a key")).toThrow(UnparseableKeyError);
    const pair = generateKeyPair();
    expect(() => cache.get(pair.fingerprint, pair.authorizedKey)).toThrow(PublicKeyNotPrivateError);
  });
});
