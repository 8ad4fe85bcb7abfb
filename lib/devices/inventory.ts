/**
 * The inventory file of DESIGN §6: YAML, `devices: [{ id, host, port, adminUser, instanceId?,
 * region?, hostKeyFingerprint?, authorizedKeysPath? }]`. Read by `keyheal local start
 * --inventory F` and `keyheal devices import F`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import * as z from "zod";
import { issuesOf } from "../validation/issues.ts";
import { InvalidInventoryError } from "./errors.ts";
import { DeviceRegistrationSchema, uniqueDevices } from "./schemas.ts";
import type { DeviceRegistration } from "./types.ts";

/** More than any one machine's loopback fleet or a small site needs, and cheap to validate. */
export const MAX_INVENTORY_DEVICES = 10_000;

export const InventorySchema = z.strictObject({
  devices: uniqueDevices(
    z
      .array(DeviceRegistrationSchema, { error: "must be a list of devices" })
      .max(MAX_INVENTORY_DEVICES, {
        error: `must hold at most ${MAX_INVENTORY_DEVICES} devices`,
      }),
  ),
});

/**
 * Parses inventory YAML. Pure.
 *
 * @param source names the file in error messages.
 * @throws InvalidInventoryError naming the line of a YAML error, or each bad field
 *   (`devices[1].port: must be from 1 to 65535`).
 */
export function parseInventory(text: string, source = "(inventory)"): DeviceRegistration[] {
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
  const result = InventorySchema.safeParse(document.toJS() ?? {});
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
  try {
    text = await readFile(path, "utf8");
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
  return parseInventory(text, path);
}
