import { createHash } from "node:crypto";

/**
 * SHA-256 fingerprint of an SSH public key blob, formatted exactly as
 * `ssh-keygen -lf` prints it: `SHA256:` followed by unpadded base64.
 *
 * @param blob SSH wire-format public key (the decoded base64 field of a .pub line).
 */
export function fingerprintOf(blob: Buffer): string {
  const digest = createHash("sha256").update(blob).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
