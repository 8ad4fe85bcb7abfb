/** What this module accepts, and the names each key type goes by in SSH, OpenSSL and JWK. */

import { DsaKeyRefusedError, RsaKeyTooShortError, UnsupportedKeyTypeError } from "./errors.ts";
import type { EcdsaCurve, SshKeyAlgorithm } from "./types.ts";

export interface EcdsaCurveInfo {
  curve: EcdsaCurve;
  algorithm: SshKeyAlgorithm;
  /** Curve identifier inside SSH blobs. */
  sshName: string;
  /** `namedCurve` as node:crypto reports it. */
  openSslName: string;
  /** `crv` of a JWK. */
  jwkCurve: string;
  bits: number;
  /** Length of one affine coordinate in bytes. */
  coordinateLength: number;
}

export const ECDSA_CURVES: readonly EcdsaCurveInfo[] = [
  {
    curve: "p256",
    algorithm: "ecdsa-sha2-nistp256",
    sshName: "nistp256",
    openSslName: "prime256v1",
    jwkCurve: "P-256",
    bits: 256,
    coordinateLength: 32,
  },
  {
    curve: "p384",
    algorithm: "ecdsa-sha2-nistp384",
    sshName: "nistp384",
    openSslName: "secp384r1",
    jwkCurve: "P-384",
    bits: 384,
    coordinateLength: 48,
  },
  {
    curve: "p521",
    algorithm: "ecdsa-sha2-nistp521",
    sshName: "nistp521",
    openSslName: "secp521r1",
    jwkCurve: "P-521",
    bits: 521,
    coordinateLength: 66,
  },
];

/** Largest RSA key {@link generateKeyPair} creates; imports may be larger (OpenSSH allows 16384). */
export const MAX_GENERATED_RSA_BITS = 8192;

/**
 * Throws the matching {@link KeyError} unless `type` is an SSH public key
 * algorithm this module handles. Used on the type named inside key files and
 * public key lines before anything else is decoded.
 */
export function assertSupportedSshType(type: string): asserts type is SshKeyAlgorithm {
  if (type === "ssh-ed25519" || type === "ssh-rsa") return;
  if (ECDSA_CURVES.some((c) => c.algorithm === type)) return;
  if (type === "ssh-dss") throw new DsaKeyRefusedError();
  if (isCertificateType(type)) throw certificateRefusal(type);
  if (type.startsWith("sk-")) {
    throw new UnsupportedKeyTypeError(
      `${type} (FIDO security key)`,
      "Hardware-backed keys cannot be deployed by keyheal; generate an ed25519 key instead.",
    );
  }
  throw new UnsupportedKeyTypeError(`SSH key type "${type}"`);
}

/** Throws {@link RsaKeyTooShortError} for RSA moduli below the minimum. */
export function assertRsaBits(bits: number): void {
  if (bits < RsaKeyTooShortError.minimumBits) throw new RsaKeyTooShortError(bits);
}

/** Whether `type` names an OpenSSH certificate (e.g. `ssh-ed25519-cert-v01@openssh.com`). */
export function isCertificateType(type: string): boolean {
  return /-cert-v0[01]@openssh\.com$/.test(type);
}

/** The refusal for an OpenSSH certificate given where a key was expected. */
export function certificateRefusal(type: string): UnsupportedKeyTypeError {
  return new UnsupportedKeyTypeError(
    `${type} certificate`,
    "Certificates are not handled; pass the key the certificate was issued for, not the -cert.pub file.",
  );
}
