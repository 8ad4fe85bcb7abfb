import { InvalidArgumentError, InvalidSecretNameError } from "./errors.ts";

/** Tag (Secrets Manager) and field (files) holding a short-lived secret's expiry, ISO-8601. */
export const EXPIRES_AT_TAG = "keyheal:expiresAt";

const MAX_NAME_LENGTH = 512;
/** The characters Secrets Manager allows in a name. */
const ALLOWED = /^[A-Za-z0-9/_+=.@-]+$/;

/**
 * Accepts names both secret stores can hold safely: Secrets Manager's character set, in
 * `/`-separated segments none of which is empty, `.` or `..` (so a name can never climb out of
 * the file store's directory, whatever the encoding below it does).
 *
 * @throws {InvalidSecretNameError}
 */
export function assertSecretName(name: string): void {
  if (name.length === 0) throw new InvalidSecretNameError("the name is empty");
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidSecretNameError(`longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (!ALLOWED.test(name)) throw new InvalidSecretNameError("it contains a character not allowed");
  if (name.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new InvalidSecretNameError('a segment is empty, "." or ".."');
  }
}

/** The expiry of a secret with `ttlSeconds` to live, or undefined for a lasting one. */
export function expiryOf(ttlSeconds: number | undefined, nowMs: number): string | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new InvalidArgumentError("ttlSeconds", `must be a positive number, got ${ttlSeconds}`);
  }
  return new Date(nowMs + ttlSeconds * 1000).toISOString();
}
