import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { ECDSA_CURVES, type EcdsaCurveInfo, MAX_GENERATED_RSA_BITS } from "./algorithms.ts";
import { DsaKeyRefusedError, InvalidKeyOptionsError, RsaKeyTooShortError } from "./errors.ts";
import { buildKeyPair } from "./keypair.ts";
import type { GenerateKeyPairOptions, KeyPair } from "./types.ts";

const DEFAULT_RSA_BITS = 3072;

/** What to generate, after validating {@link GenerateKeyPairOptions}. */
export type KeySpec =
  | { type: "ed25519" }
  | { type: "rsa"; bits: number }
  | { type: "ecdsa"; curve: EcdsaCurveInfo };

/**
 * Generates a new key pair; ed25519 unless `type` says otherwise.
 *
 * @throws {RsaKeyTooShortError} `bits` under 2048.
 * @throws {InvalidKeyOptionsError} any other invalid option (bits over 8192 or
 *   not an integer, `bits` for a non-RSA key, unknown type or curve, multi-line comment).
 */
export function generateKeyPair(opts: GenerateKeyPairOptions = {}): KeyPair {
  const spec = resolveKeySpec(opts);
  return buildKeyPair(generatePrivateKey(spec), opts.comment ?? "");
}

/** Validates generation options (they may come from untyped callers). */
export function resolveKeySpec(opts: GenerateKeyPairOptions): KeySpec {
  const type: string = opts.type ?? "ed25519";
  if (type !== "rsa" && opts.bits !== undefined) {
    throw new InvalidKeyOptionsError(
      `"bits" applies only to RSA keys, not ${type}. Omit it${type === "ecdsa" ? ', and choose the ECDSA size with "curve"' : ""}.`,
    );
  }
  if (type !== "ecdsa" && opts.curve !== undefined) {
    throw new InvalidKeyOptionsError(`"curve" applies only to ECDSA keys, not ${type}. Omit it.`);
  }
  switch (type) {
    case "ed25519":
      return { type };
    case "rsa": {
      const bits = opts.bits ?? DEFAULT_RSA_BITS;
      if (!Number.isInteger(bits) || bits > MAX_GENERATED_RSA_BITS) {
        throw new InvalidKeyOptionsError(
          `RSA key size must be a whole number of bits from ${RsaKeyTooShortError.minimumBits} to ` +
            `${MAX_GENERATED_RSA_BITS}; got ${bits}. Use 3072 (the default) unless you need otherwise.`,
        );
      }
      if (bits < RsaKeyTooShortError.minimumBits) throw new RsaKeyTooShortError(bits);
      return { type, bits };
    }
    case "ecdsa": {
      const name: string = opts.curve ?? "p256";
      const curve = ECDSA_CURVES.find((c) => c.curve === name);
      if (curve === undefined) {
        throw new InvalidKeyOptionsError(
          `Unknown ECDSA curve "${name}". Use one of ${ECDSA_CURVES.map((c) => `"${c.curve}"`).join(", ")}.`,
        );
      }
      return { type, curve };
    }
    case "dsa":
      throw new DsaKeyRefusedError();
    default:
      throw new InvalidKeyOptionsError(
        `Unknown key type "${type}". Use "ed25519" (recommended), "rsa" or "ecdsa".`,
      );
  }
}

function generatePrivateKey(spec: KeySpec): KeyObject {
  switch (spec.type) {
    case "ed25519":
      return generateKeyPairSync("ed25519").privateKey;
    case "rsa":
      return generateKeyPairSync("rsa", { modulusLength: spec.bits, publicExponent: 0x10001 })
        .privateKey;
    case "ecdsa":
      return generateKeyPairSync("ec", { namedCurve: spec.curve.openSslName }).privateKey;
  }
}
