/**
 * `keyheal devices import F` and `keyheal devices list [--status S]`.
 *
 * @module
 */
import { resolve } from "node:path";
import type { DeviceView } from "../contract/api.ts";
import { AUTH_STATUSES } from "../contract/vocabulary.ts";
import { stringOption } from "./args.ts";
import {
  type CommandSpec,
  choiceOption,
  LIST_OPTIONS,
  NO_POSITIONALS,
  positiveIntOption,
} from "./command.ts";
import { EXIT, InputError } from "./errors.ts";
import { readInputFile } from "./files.ts";
import { renderJson, renderTable } from "./output.ts";

export function renderDevices(devices: readonly DeviceView[], width?: number): string {
  return renderTable(
    ["ID", "HOST", "PORT", "ADMIN", "STATUS", "GEN", "LAST FAILURE", "HOST KEY"],
    devices.map((device) => [
      device.id,
      device.host,
      device.port,
      device.adminUser,
      device.status,
      device.keyGeneration,
      device.lastFailureCause,
      device.hostKeyFingerprint,
    ]),
    width,
  );
}

export const devicesCommands: CommandSpec[] = [
  {
    words: ["devices", "import"],
    usage: "devices import FILE",
    summary: "Register the devices of an inventory file (YAML), or update their addresses.",
    details: [
      "The file is the inventory of the contract:",
      "  devices:",
      "    - { id: web-1, host: 10.0.0.5, port: 22, adminUser: ops }",
      "with optional instanceId, region, hostKeyFingerprint (SHA256:…) and authorizedKeysPath.",
      "The file is checked before anything is sent; a problem names the field (devices[1].port).",
      "Known devices keep their auth status and pinned host key.",
    ].join("\n"),
    options: {},
    positionals: { name: "FILE", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const path = context.args.positionals[0] as string;
      const text = await readInputFile(resolve(context.io.cwd, path), path);
      const { InvalidInventoryError } = await import("../devices/errors.ts");
      const { parseInventory } = await import("../devices/inventory.ts");
      let devices: ReturnType<typeof parseInventory>;
      try {
        devices = parseInventory(text, path);
      } catch (error) {
        if (error instanceof InvalidInventoryError) {
          throw new InputError(error.message, { cause: error });
        }
        throw error;
      }
      const client = await context.client();
      const imported = await client.importDevices(devices);
      if (context.json) {
        context.print(renderJson(imported));
      } else {
        const count = imported.items.length;
        context.print(`Imported ${count} device${count === 1 ? "" : "s"} from ${path}.\n`);
        if (count > 0) context.print(renderDevices(imported.items, context.width));
      }
      return EXIT.OK;
    },
  },
  {
    words: ["devices", "list"],
    usage: "devices list [--status S] [--search TEXT]",
    summary: "List devices, sorted by id, with their auth status, key generation and last failure.",
    details: [
      `Statuses: ${AUTH_STATUSES.join(", ")}.`,
      "--search finds devices whose id, host or admin user starts with TEXT (any case): those",
      "matched by id first, then by host, then by admin user.",
    ].join("\n"),
    options: {
      status: { type: "string", value: "S", description: "Only devices with this auth status" },
      search: {
        type: "string",
        value: "TEXT",
        description: "Only devices whose id, host or admin user starts with TEXT",
      },
      ...LIST_OPTIONS,
    },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const status = choiceOption(context, "status", AUTH_STATUSES, "devices list");
      const limit = positiveIntOption(context, "limit", "devices list");
      const client = await context.client();
      const search = stringOption(context.args, "search");
      const page = await client.listDevices(
        { status, search },
        { limit, cursor: stringOption(context.args, "cursor") },
      );
      if (context.json) context.print(renderJson(page));
      else if (page.items.length === 0) {
        context.print(
          search !== undefined
            ? `No devices match ${JSON.stringify(search)}${status ? ` with status ${status}` : ""}.\n`
            : status
              ? `No devices with status ${status}.\n`
              : "No devices registered.\n",
        );
      } else {
        context.print(renderDevices(page.items, context.width));
        if (page.nextCursor) context.print(`More: --cursor ${page.nextCursor}\n`);
      }
      return EXIT.OK;
    },
  },
];
