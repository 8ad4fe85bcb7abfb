/**
 * Private keys parsed once per process, for every SSH connection that offers them.
 *
 * Given a key string, ssh2 parses it at each connection, and its `sign` hands node:crypto the PEM,
 * which decodes it again at each signature; in a rotation's CPU profile both were visible
 * (`getKeyObjectSlots`, bench/RESULTS.md). Here a key is parsed by ssh2's own parser once per
 * fingerprint, its private half turned into a `KeyObject` once, and the parsed key signs with that
 * object. ssh2 takes a parsed key wherever it takes a key string (`parseKey` returns it as is).
 *
 * @module
 */
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import type { ParsedKey } from "ssh2";
import keyParser from "ssh2/lib/protocol/keyParser.js";
import { looksArmored, normaliseKeyText, parseArmor } from "./armor.ts";
import { PublicKeyNotPrivateError, UnparseableKeyError } from "./errors.ts";
import { decodeOpenSshEnvelope, OPENSSH_LABEL } from "./openssh-format.ts";

/** Enough for every generation a fleet may still hold, and the operator keys of a resolve job. */
export const PARSED_KEY_CACHE_SIZE = 64;

/** ssh2's hash for a key type when the server names none (all but RSA). */
const DEFAULT_HASH: Readonly<Record<string, string | null>> = {
  "ssh-ed25519": null,
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
  "ssh-rsa": "sha1",
};

interface Entry {
  /** What the key was parsed from, as {@link identityOf} gives it. */
  identity: string;
  key: ParsedKey;
}

/** A bounded map from fingerprint to parsed key, least recently used first out. */
export class ParsedKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #size: number;

  constructor(size = PARSED_KEY_CACHE_SIZE) {
    this.#size = size;
  }

  /**
   * The parsed key for `privateKey` (OpenSSH or PEM, unencrypted), parsed at the first call for
   * its fingerprint. A different key under a fingerprint already cached replaces it, so a
   * mislabelled key is never signed with the wrong private half.
   *
   * @throws {UnparseableKeyError} a string ssh2 cannot parse.
   * @throws {PublicKeyNotPrivateError} a public key.
   */
  get(fingerprint: string, privateKey: string): ParsedKey {
    const cached = this.#entries.get(fingerprint);
    const identity = identityOf(privateKey);
    if (cached && cached.identity === identity) {
      this.#entries.delete(fingerprint);
      this.#entries.set(fingerprint, cached);
      return cached.key;
    }
    const key = parseOnce(privateKey);
    this.#entries.delete(fingerprint);
    this.#entries.set(fingerprint, { identity, key });
    if (this.#entries.size > this.#size) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return key;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/**
 * The key text with what varies between two encodings of one key taken out: an unencrypted
 * OpenSSH file's check value, which keyheal writes at random at each encoding
 * (lib/keys/keypair.ts), so the same key read again from the key store (once per task) arrives
 * as a new text. Everything else, the private key itself included, stays part of the identity,
 * so a different private half under the same fingerprint is never taken for the cached one.
 */
function identityOf(privateKey: string): string {
  const text = normaliseKeyText(privateKey);
  if (!looksArmored(text)) return privateKey;
  try {
    const armor = parseArmor(text);
    if (armor.label !== OPENSSH_LABEL) return privateKey;
    const envelope = decodeOpenSshEnvelope(armor.body);
    if (envelope.cipherName !== "none" || envelope.privateSection.length < 8) return privateKey;
    // The section is a view of the decoded body: its two 32-bit check values are zeroed in place.
    envelope.privateSection.fill(0, 0, 8);
    return armor.body.toString("base64");
  } catch {
    // Not a well-formed OpenSSH file: the parse that follows says what is wrong with it.
    return privateKey;
  }
}

function parseOnce(privateKey: string): ParsedKey {
  const parsed = keyParser.parseKey(privateKey);
  if (parsed instanceof Error) {
    throw new UnparseableKeyError(parsed.message, { cause: parsed });
  }
  const pem = parsed.getPrivatePEM();
  if (!parsed.isPrivateKey() || !pem) {
    throw new PublicKeyNotPrivateError("a public key");
  }
  const type = parsed.type;
  if (!(type in DEFAULT_HASH)) return parsed;
  const keyObject: KeyObject = createPrivateKey(pem);
  const fallback = DEFAULT_HASH[type] ?? null;
  // An own property shadows the prototype's `sign`, which would decode the PEM at every call.
  Object.defineProperty(parsed, "sign", {
    value: (data: Buffer, algo?: string): Buffer | Error => {
      try {
        return sign(algo || fallback, data, keyObject);
      } catch (error) {
        return error as Error;
      }
    },
  });
  return parsed;
}

/** The runtime's cache: one per process, shared by every connection. */
export const parsedKeys = new ParsedKeyCache();
