/** Converts a node:crypto private KeyObject into SSH wire-format public and private key blobs. */

import type { JsonWebKey, KeyObject } from "node:crypto";
import { assertRsaBits, ECDSA_CURVES } from "./algorithms.ts";
import { DsaKeyRefusedError, UnsupportedKeyTypeError } from "./errors.ts";
import { sshMpint, sshString } from "./ssh-wire.ts";
import type { SshKeyAlgorithm } from "./types.ts";

export interface SshKeyMaterial {
  algorithm: SshKeyAlgorithm;
  bits: number;
  /** SSH wire-format public key. */
  publicBlob: Buffer;
  /** Type string plus private fields in the order of OpenSSH's PROTOCOL.key. */
  privateKeyBlob: Buffer;
}

/**
 * Encodes `key` for SSH, refusing (with the matching {@link KeyError}) key
 * types this module does not handle: DSA, short RSA, RSA-PSS, ed448, X25519,
 * curves other than NIST P-256/384/521.
 */
export function sshKeyMaterialOf(key: KeyObject): SshKeyMaterial {
  const type = key.asymmetricKeyType;
  switch (type) {
    case "ed25519": {
      const jwk = key.export({ format: "jwk" });
      const publicKey = jwkBytes(jwk, "x");
      const seed = jwkBytes(jwk, "d");
      const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(publicKey)]);
      // OpenSSH stores the 64-byte "secret key" form: seed followed by public key.
      const privateKeyBlob = Buffer.concat([
        publicBlob,
        sshString(Buffer.concat([seed, publicKey])),
      ]);
      return { algorithm: "ssh-ed25519", bits: 256, publicBlob, privateKeyBlob };
    }
    case "rsa": {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      assertRsaBits(bits);
      const jwk = key.export({ format: "jwk" });
      if (jwk.oth !== undefined) throw new UnsupportedKeyTypeError("multi-prime RSA");
      const [n, e, d, p, q, qi] = (["n", "e", "d", "p", "q", "qi"] as const).map((name) =>
        sshMpint(jwkBytes(jwk, name)),
      ) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
      const type = sshString("ssh-rsa");
      // JWK "qi" is q⁻¹ mod p, which is exactly OpenSSH's "iqmp".
      return {
        algorithm: "ssh-rsa",
        bits,
        publicBlob: Buffer.concat([type, e, n]),
        privateKeyBlob: Buffer.concat([type, n, e, d, qi, p, q]),
      };
    }
    case "ec": {
      const namedCurve = key.asymmetricKeyDetails?.namedCurve ?? "unknown";
      const curve = ECDSA_CURVES.find((c) => c.openSslName === namedCurve);
      if (curve === undefined) throw new UnsupportedKeyTypeError(`ECDSA on curve ${namedCurve}`);
      const jwk = key.export({ format: "jwk" });
      const point = Buffer.concat([Buffer.of(4), jwkBytes(jwk, "x"), jwkBytes(jwk, "y")]);
      const publicBlob = Buffer.concat([
        sshString(curve.algorithm),
        sshString(curve.sshName),
        sshString(point),
      ]);
      const privateKeyBlob = Buffer.concat([publicBlob, sshMpint(jwkBytes(jwk, "d"))]);
      return { algorithm: curve.algorithm, bits: curve.bits, publicBlob, privateKeyBlob };
    }
    case "dsa":
      throw new DsaKeyRefusedError();
    case "rsa-pss":
      throw new UnsupportedKeyTypeError(
        "RSA-PSS (an RSA key restricted to PSS signatures)",
        'Generate a plain key with "ssh-keygen -t ed25519".',
      );
    default:
      throw new UnsupportedKeyTypeError(type ?? "unknown key type");
  }
}

function jwkBytes(jwk: JsonWebKey, name: "x" | "y" | "d" | "n" | "e" | "p" | "q" | "qi"): Buffer {
  const value = jwk[name];
  // node:crypto always exports these members for the key types above.
  if (typeof value !== "string") throw new Error(`JWK export lacks "${name}"`);
  return Buffer.from(value, "base64url");
}
