/**
 * Files the user names on the command line: read whole, or an InputError (exit 2) that says
 * plainly why not.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { InputError } from "./errors.ts";

/** Larger than any private key (an 8192-bit RSA key is under 7 KB), small enough to refuse junk. */
const MAX_KEY_BYTES = 64 * 1024;

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "a directory, not a file";
  return code ?? "unreadable";
}

/** A text file; `shown` is the path as the user gave it, for the message. */
export async function readInputFile(absolute: string, shown: string): Promise<string> {
  try {
    return await readFile(absolute, "utf8");
  } catch (error) {
    throw new InputError(`cannot read ${shown}: ${reasonOf(error)}`, { cause: error });
  }
}

/**
 * A private key file, checked only for being one: the API parses it and names the problem
 * (wrong passphrase, DSA, …).
 *
 * @throws InputError for a missing, unreadable, oversized or non-key file
 */
export async function readPrivateKeyFile(
  path: string,
  cwd: string,
  flagName: string,
): Promise<string> {
  const absolute = resolve(cwd, path);
  let text: string;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new InputError(`${flagName} ${path}: not a regular file`);
    if (info.size > MAX_KEY_BYTES) {
      throw new InputError(`${flagName} ${path}: larger than 64 KiB, not a private key`);
    }
    text = await readFile(absolute, "utf8");
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${flagName} ${path}: cannot read the file (${reasonOf(error)})`, {
      cause: error,
    });
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new InputError(
      `${flagName} ${path}: not a private key file (no "-----BEGIN … PRIVATE KEY-----" line); give the private half, not the .pub`,
    );
  }
  return text;
}
