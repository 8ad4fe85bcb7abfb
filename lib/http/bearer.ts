import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh API token: 256 random bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Whether an `Authorization` header carries `token` as a bearer token. Compared in constant
 * time over SHA-256 digests, so neither the content nor the length of the token leaks.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  const given = createHash("sha256")
    .update(match?.[1] ?? "")
    .digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}
