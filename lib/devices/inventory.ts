/**
 * The inventory file of docs/architecture.md, Contracts: YAML, `devices: [{ id, host, port, adminUser, instanceId?,
 * region?, hostKeyFingerprint?, authorizedKeysPath? }]`. Read by `keyheal local start
 * --inventory F` and `keyheal devices import F`.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { parseDocument } from "yaml";
import * as z from "zod";
import { issuesOf } from "../validation/issues.ts";
import { InvalidInventoryError } from "./errors.ts";
import { DeviceRegistrationSchema, uniqueDevices } from "./schemas.ts";
import type { DeviceRegistration } from "./types.ts";

/** More than any one machine's loopback fleet or a small site needs, and cheap to validate. */
export const MAX_INVENTORY_DEVICES = 10_000;

/**
 * 10,000 devices at about 400 bytes each. A larger file is refused before it is parsed: parsing
 * megabytes of YAML would hold the CLI or the runtime for seconds to find out the same.
 */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/**
 * How many alias expansions a file may use (the yaml library's default). Aliases of aliases grow
 * exponentially (a "billion laughs" bomb), so past this the file is refused, not expanded.
 */
const MAX_ALIAS_COUNT = 100;

export const InventorySchema = z.strictObject({
  devices: uniqueDevices(
    z
      .array(DeviceRegistrationSchema, { error: "must be a list of devices" })
      .max(MAX_INVENTORY_DEVICES, {
        error: `must hold at most ${MAX_INVENTORY_DEVICES} devices`,
      }),
  ),
});

function tooLarge(source: string, bytes: number): InvalidInventoryError {
  return new InvalidInventoryError(source, [
    {
      path: "(file)",
      problem: `is ${bytes} bytes, over the ${MAX_INVENTORY_BYTES}-byte limit (about ${MAX_INVENTORY_DEVICES} devices); split it into smaller files`,
    },
  ]);
}

/**
 * Parses inventory YAML. Pure.
 *
 * @param source names the file in error messages.
 * @throws InvalidInventoryError naming the line of a YAML error, or each bad field
 *   (`devices[1].port: must be from 1 to 65535`).
 */
export function parseInventory(text: string, source = "(inventory)"): DeviceRegistration[] {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_INVENTORY_BYTES) throw tooLarge(source, bytes);
  const document = parseDocument(text, { uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0];
    const where = line ? `line ${line.line}, column ${line.col}` : "(file)";
    // The pretty message's first line, without its " at line L, column C:" tail and snippet.
    const problem = (yamlError.message.split("\n")[0] ?? "").replace(
      / at line \d+, column \d+:?$/,
      "",
    );
    throw new InvalidInventoryError(source, [{ path: where, problem }], { cause: yamlError });
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The yaml library's only failures here are alias ones: too many expansions, or an alias
    // to an anchor that does not exist.
    const problem = `uses YAML aliases that cannot be expanded safely (${(error as Error).message}); write the devices out without aliases`;
    throw new InvalidInventoryError(source, [{ path: "(file)", problem }], { cause: error });
  }
  const result = InventorySchema.safeParse(value ?? {});
  if (!result.success) {
    throw new InvalidInventoryError(source, issuesOf(result.error, "(file)"));
  }
  return result.data.devices;
}

/**
 * Reads and parses an inventory file.
 *
 * @throws InvalidInventoryError for an unreadable file too (naming the path and the reason).
 */
export async function readInventoryFile(path: string): Promise<DeviceRegistration[]> {
  let text: string;
  let size: number;
  try {
    // A gigabyte file is refused by its size, without reading it.
    size = (await stat(path)).size;
    text = size > MAX_INVENTORY_BYTES ? "" : await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new InvalidInventoryError(
      path,
      [{ path: "(file)", problem: `cannot be read (${code})` }],
      {
        cause: error,
      },
    );
  }
  if (size > MAX_INVENTORY_BYTES) throw tooLarge(path, size);
  return parseInventory(text, path);
}
