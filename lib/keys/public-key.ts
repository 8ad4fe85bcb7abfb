import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { assertRsaBits, assertSupportedSshType, ECDSA_CURVES } from "./algorithms.ts";
import { looksArmored, normaliseKeyText } from "./armor.ts";
import { UnparseableKeyError } from "./errors.ts";
import { fingerprintOf } from "./fingerprint.ts";
import { decodeBase64Strict, SshReader, WireFormatError } from "./ssh-wire.ts";
import type { PublicKey, SshKeyAlgorithm } from "./types.ts";

const LINE = /^(\S+)\s+(\S+)(?:\s+(.*))?$/;

/**
 * Parses one OpenSSH public key line, `"<type> <base64> [comment]"` (the
 * contents of a .pub file). CRLF and surrounding whitespace are tolerated.
 *
 * Applies the same policy as {@link importPrivateKey}: DSA, RSA under 2048
 * bits, certificates and unknown types are refused.
 *
 * @throws {UnparseableKeyError} not a single well-formed public key line.
 * @throws {DsaKeyRefusedError} an `ssh-dss` key.
 * @throws {RsaKeyTooShortError} an RSA key under 2048 bits.
 * @throws {UnsupportedKeyTypeError} a certificate, security key or other type.
 */
export function parsePublicKey(text: string): PublicKey {
  const expected = { expected: "public key" } as const;
  const line = normaliseKeyText(text);
  if (line === "") throw new UnparseableKeyError("the input is empty", expected);
  if (looksArmored(line)) {
    throw new UnparseableKeyError(
      "it is an armored key file, not a public key line (private keys go to importPrivateKey)",
      expected,
    );
  }
  if (line.includes("\n")) {
    throw new UnparseableKeyError("it spans several lines; exactly one is expected", expected);
  }
  const match = LINE.exec(line);
  const [, declaredType = "", base64 = "", comment = ""] = match ?? [];
  if (match === null) {
    throw new UnparseableKeyError("it does not have a key type followed by key data", expected);
  }
  const blob = decodeBase64Strict(base64);
  if (blob === undefined) {
    throw new UnparseableKeyError("its key data is not valid base64", expected);
  }
  const { algorithm, bits } = decodePublicBlob(blob, { declaredType });
  return { algorithm, blob, fingerprint: fingerprintOf(blob), bits, comment: comment.trim() };
}

/**
 * Validates an SSH wire-format public key blob and applies the key policy.
 * With `declaredType`, also checks that the blob holds that key type (a .pub
 * line names its type twice: in clear and inside the blob). `expected` says
 * what the caller was reading, for the error message.
 */
export function decodePublicBlob(
  blob: Buffer,
  options: { declaredType?: string; expected?: "private key" | "public key" } = {},
): { algorithm: SshKeyAlgorithm; bits: number } {
  const expected = { expected: options.expected ?? "public key" } as const;
  const reader = new SshReader(blob);
  let type: string;
  try {
    type = reader.readUtf8();
  } catch (error) {
    throw new UnparseableKeyError("its public key data is malformed", {
      ...expected,
      cause: error,
    });
  }
  if (options.declaredType !== undefined && options.declaredType !== type) {
    throw new UnparseableKeyError(
      "the key type named on the line differs from the key data",
      expected,
    );
  }
  // Checked before the type is named in any message: it comes from untrusted bytes.
  if (!/^[A-Za-z0-9@._+-]{1,64}$/.test(type)) {
    throw new UnparseableKeyError("its key type is not a valid SSH algorithm name", expected);
  }
  assertSupportedSshType(type);
  let key: KeyObject;
  try {
    const jwk = publicJwk(type, reader);
    reader.expectEnd();
    // createPublicKey rejects points off the curve and malformed numbers.
    key = createPublicKey({ key: jwk, format: "jwk" });
  } catch (error) {
    // Only this blob is being decoded here, so any failure means it is not a valid key.
    throw new UnparseableKeyError(`its ${type} public key data is corrupt`, {
      ...expected,
      cause: error,
    });
  }
  if (type === "ssh-ed25519") return { algorithm: type, bits: 256 };
  if (type === "ssh-rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    assertRsaBits(bits);
    return { algorithm: type, bits };
  }
  const curve = ECDSA_CURVES.find((c) => c.algorithm === type);
  return { algorithm: type, bits: curve?.bits ?? 0 };
}

function publicJwk(type: SshKeyAlgorithm, reader: SshReader): JsonWebKey {
  if (type === "ssh-ed25519") {
    const x = reader.readString();
    if (x.length !== 32) throw new WireFormatError("ed25519 key is not 32 bytes");
    return { kty: "OKP", crv: "Ed25519", x: x.toString("base64url") };
  }
  if (type === "ssh-rsa") {
    const e = reader.readMpint();
    const n = reader.readMpint();
    if (e.length === 0 || n.length === 0) throw new WireFormatError("RSA number is zero");
    return { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") };
  }
  const curve = ECDSA_CURVES.find((c) => c.algorithm === type);
  if (curve === undefined || reader.readUtf8() !== curve.sshName) {
    throw new WireFormatError("ECDSA curve name does not match key type");
  }
  const point = reader.readString();
  const size = curve.coordinateLength;
  // Only uncompressed points (0x04 || x || y) occur in SSH.
  if (point.length !== 1 + 2 * size || point[0] !== 4) {
    throw new WireFormatError("ECDSA point is not an uncompressed point on the curve");
  }
  return {
    kty: "EC",
    crv: curve.jwkCurve,
    x: point.subarray(1, 1 + size).toString("base64url"),
    y: point.subarray(1 + size).toString("base64url"),
  };
}
