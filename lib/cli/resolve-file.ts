/**
 * `keyheal resolve --devices-file F`: the Junos form on the command line. Each device names its
 * own admin user and, where it has one, its own password or private key, each in a file of its
 * own (secrets never sit in the devices file itself). Paths are relative to the devices file.
 *
 * ```yaml
 * devices:
 *   - { id: web-1, adminUser: ops, passwordFile: secrets/web-1.pass }
 *   - { id: web-2, adminUser: root, loginUser: ops, passwordFile: secrets/web-2.pass }
 *   - { id: db-1, adminUser: dba, privateKeyFile: keys/db-1, passphraseFile: keys/db-1.pass }
 * ```
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import type { ResolveTarget } from "./api-client.ts";
import { checkDeviceId, USERNAME_PATTERN } from "./command.ts";
import { InputError } from "./errors.ts";
import { readInputFile, readPrivateKeyFile } from "./files.ts";

/** Devices one request may name (the API's limit). */
const MAX_DEVICES = 1000;
const KNOWN = new Set([
  "id",
  "adminUser",
  "loginUser",
  "passwordFile",
  "privateKeyFile",
  "passphraseFile",
]);

/** One device of the file, its secrets read. */
export type FileTarget = ResolveTarget;

export interface DevicesFile {
  /** `space-key` when the devices carry passwords, `custom-key` when they carry keys. */
  mode: "space-key" | "custom-key" | undefined;
  devices: FileTarget[];
}

/** A secret file's content without its final newline; empty is refused. */
async function readSecretFile(path: string, base: string, what: string): Promise<string> {
  const text = (await readInputFile(resolve(base, path), path)).replace(/\r?\n$/, "");
  if (text === "") throw new InputError(`${path}: the ${what} file is empty`);
  if (text.length > 65_536) throw new InputError(`${path}: larger than 64 KiB, not a ${what}`);
  return text;
}

/**
 * Reads and checks the devices file, and every secret file it names.
 *
 * @throws InputError naming the entry and field at fault.
 */
export async function readDevicesFile(path: string, cwd: string): Promise<DevicesFile> {
  const absolute = resolve(cwd, path);
  const base = dirname(absolute);
  let document: unknown;
  try {
    document = parse(await readInputFile(absolute, path));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${path}: not valid YAML (${(error as Error).message.split("\n")[0]})`, {
      cause: error,
    });
  }
  const entries = (document as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new InputError(
      `${path}: needs a list "devices:" of { id, adminUser, passwordFile | privateKeyFile }`,
    );
  }
  if (entries.length > MAX_DEVICES) {
    throw new InputError(`${path}: at most ${MAX_DEVICES} devices per resolve`);
  }
  const seen = new Set<string>();
  const devices: FileTarget[] = [];
  let passwords = 0;
  let keys = 0;
  for (const [index, entry] of entries.entries()) {
    const at = `${path}: devices[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new InputError(`${at}: must be a mapping such as { id: web-1, adminUser: ops }`);
    }
    const fields = entry as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!KNOWN.has(name)) {
        throw new InputError(
          `${at}.${name}: not a known field (${[...KNOWN].join(", ")}); secrets go in files, never in this file`,
        );
      }
    }
    const text = (name: string): string | undefined => {
      const value = fields[name];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== "string" && typeof value !== "number") {
        throw new InputError(`${at}.${name}: must be a string`);
      }
      return String(value);
    };
    const id = text("id");
    if (id === undefined) throw new InputError(`${at}.id: missing`);
    checkDeviceId(id, "resolve", `${at}.id`);
    if (seen.has(id)) throw new InputError(`${at}.id: ${id} is named twice`);
    seen.add(id);
    const adminUser = text("adminUser");
    if (adminUser === undefined || !USERNAME_PATTERN.test(adminUser)) {
      throw new InputError(
        `${at}.adminUser: needs the device's admin user name (a-z, 0-9, _ and -)`,
      );
    }
    const loginUser = text("loginUser");
    if (loginUser !== undefined && !USERNAME_PATTERN.test(loginUser)) {
      throw new InputError(`${at}.loginUser: ${loginUser} is not a user name`);
    }
    const passwordFile = text("passwordFile");
    const privateKeyFile = text("privateKeyFile");
    const passphraseFile = text("passphraseFile");
    if (passwordFile !== undefined && privateKeyFile !== undefined) {
      throw new InputError(`${at}: give passwordFile or privateKeyFile, not both`);
    }
    if (passphraseFile !== undefined && privateKeyFile === undefined) {
      throw new InputError(`${at}.passphraseFile: goes with privateKeyFile`);
    }
    const device: FileTarget = { id, adminUser };
    if (loginUser !== undefined) device.loginUser = loginUser;
    if (passwordFile !== undefined) {
      device.password = await readSecretFile(passwordFile, base, "password");
      passwords += 1;
    }
    if (privateKeyFile !== undefined) {
      device.privateKey = await readPrivateKeyFile(privateKeyFile, base, `${at}.privateKeyFile`);
      keys += 1;
    }
    if (passphraseFile !== undefined) {
      device.passphrase = await readSecretFile(passphraseFile, base, "passphrase");
    }
    devices.push(device);
  }
  if (passwords > 0 && keys > 0) {
    throw new InputError(
      `${path}: some devices give a password and others a private key; resolve each kind in its own run of keyheal resolve`,
    );
  }
  return { mode: passwords > 0 ? "space-key" : keys > 0 ? "custom-key" : undefined, devices };
}
