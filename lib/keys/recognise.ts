/** Recognises inputs that are not private keys, so the refusal can say what was given instead. */

import { certificateRefusal, isCertificateType } from "./algorithms.ts";
import { type KeyError, PublicKeyNotPrivateError, UnsupportedKeyTypeError } from "./errors.ts";
import { decodeBase64Strict, SshReader, WireFormatError } from "./ssh-wire.ts";

/**
 * Returns the error to throw when (normalised, non-armored) `text` is a
 * recognisable non-private-key input; `undefined` when it is not recognised.
 */
export function refusalForNonPrivateKey(text: string): KeyError | undefined {
  if (text.startsWith("PuTTY-User-Key-File-")) {
    return new UnsupportedKeyTypeError(
      "PuTTY private key (PPK) format",
      'Convert it with "puttygen <file>.ppk -O private-openssh -o <file>" and import the result.',
    );
  }
  if (text.startsWith("---- BEGIN SSH2 PUBLIC KEY ----")) {
    return new PublicKeyNotPrivateError("an RFC 4716 (SSH2) public key");
  }
  if (text.startsWith("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")) {
    return new UnsupportedKeyTypeError(
      "SSH.com (SSH2) private key format",
      'Convert it to OpenSSH format with "ssh-keygen -i -f <file>" and import the result.',
    );
  }
  for (const line of text.split("\n")) {
    const found = findPublicKey(line.trim());
    if (found === undefined) continue;
    if (isCertificateType(found.type)) return certificateRefusal(found.type);
    return new PublicKeyNotPrivateError(found.kind);
  }
  return undefined;
}

/**
 * Finds `<type> <base64>` anywhere on a line, which covers .pub files,
 * authorized_keys entries with options and known_hosts entries. The blob must
 * name the same type, so prose containing base64 is not mistaken for a key.
 */
function findPublicKey(line: string): { type: string; kind: string } | undefined {
  const tokens = line.split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i++) {
    const type = tokens[i] ?? "";
    const blob = decodeBase64Strict(tokens[i + 1] ?? "");
    if (blob === undefined || blobType(blob) !== type) continue;
    return { type, kind: describeLine(tokens, i) };
  }
  return undefined;
}

function blobType(blob: Buffer): string | undefined {
  try {
    return new SshReader(blob).readUtf8();
  } catch (error) {
    if (error instanceof WireFormatError) return undefined;
    throw error;
  }
}

// Names that start an authorized_keys option ("no-pty", "restrict", from="…", …); see sshd(8).
const AUTHORIZED_KEYS_OPTION =
  /^(agent-forwarding|cert-authority|command|environment|expiry-time|from|no-[a-z0-9-]+|permit[a-z]+|port-forwarding|principals|pty|restrict|tunnel|user-rc|verify-required|x11-forwarding)(=|,|$)/i;

function describeLine(tokens: string[], typeIndex: number): string {
  if (typeIndex === 0) return "an OpenSSH public key line (a .pub file or authorized_keys entry)";
  // Otherwise something precedes the key: authorized_keys options, or the
  // host patterns (hashed "|1|…", optionally after an @marker) of known_hosts.
  return AUTHORIZED_KEYS_OPTION.test(tokens[0] ?? "")
    ? "an authorized_keys entry with options"
    : "a known_hosts entry";
}
