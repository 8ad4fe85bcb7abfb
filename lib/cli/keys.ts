/**
 * `keyheal keys import|rotate|list`: the platform key generations.
 *
 * @module
 */

import type { KeyView } from "../contract/api.ts";
import { KEY_TYPES } from "../contract/vocabulary.ts";
import { flag, stringOption } from "./args.ts";
import {
  type CommandSpec,
  choiceOption,
  LIST_OPTIONS,
  NO_POSITIONALS,
  positiveIntOption,
} from "./command.ts";
import { EXIT, UsageError } from "./errors.ts";
import { readPrivateKeyFile } from "./files.ts";
import { formatTime, renderJson, renderTable } from "./output.ts";
import { finishStarted, WAIT } from "./runs.ts";
import { readSecretFromStdin } from "./secrets.ts";

function renderKeys(keys: readonly KeyView[]): string {
  return renderTable(
    ["GEN", "ALGORITHM", "FINGERPRINT", "STATUS", "CREATED"],
    keys.map((key) => [
      key.generation,
      key.algorithm,
      key.fingerprint,
      key.status,
      formatTime(key.createdAt),
    ]),
  );
}

export const keysCommands: CommandSpec[] = [
  {
    words: ["keys", "import"],
    usage: "keys import --private-key FILE [--passphrase-stdin]",
    summary: "Make an existing private key the platform key (the next generation).",
    details: [
      "OpenSSH and PEM keys are accepted: ed25519, rsa (≥ 2048 bits), ecdsa p256/p384; DSA is refused.",
      "An encrypted key needs its passphrase on stdin:",
      "  keyheal keys import --private-key ~/.ssh/fleet --passphrase-stdin < passphrase.txt",
      "The private key goes to the runtime's secret store; only its fingerprint is shown or logged.",
    ].join("\n"),
    options: {
      "private-key": { type: "string", value: "FILE", description: "The private key file" },
      "passphrase-stdin": {
        type: "boolean",
        description: "Read the key's passphrase from stdin (a prompt on a terminal)",
      },
    },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const file = stringOption(context.args, "private-key");
      if (file === undefined) {
        throw new UsageError("--private-key FILE is required", "keys import");
      }
      const privateKey = await readPrivateKeyFile(file, context.io.cwd, "--private-key");
      const passphrase = flag(context.args, "passphrase-stdin")
        ? await readSecretFromStdin(context.io, "passphrase")
        : undefined;
      const client = await context.client();
      const key = await client.importKey({
        privateKey,
        ...(passphrase === undefined ? {} : { passphrase }),
      });
      if (context.json) context.print(renderJson(key));
      else {
        context.print(`Imported as generation ${key.generation}.\n`);
        context.print(renderKeys([key]));
      }
      return EXIT.OK;
    },
  },
  {
    words: ["keys", "rotate"],
    usage: "keys rotate [--type ed25519|rsa|ecdsa] [--concurrency N] [--canary N] [--wait]",
    summary:
      "Make generation N+1 and install it on every registered device; devices that are down heal on reconnect.",
    details: [
      "Devices that are down keep the old generation and heal through the reconnect workflow when",
      "they come back. --wait on a terminal shows the devices installed and failed as it goes.",
      "--concurrency N installs on N devices at once (local default 8, AWS 100; docs/scale.md).",
      "--canary N installs on N devices first (default 1; 0 skips): if one fails, the rotation",
      "stops there and the rest of the fleet is left untouched.",
    ].join("\n"),
    options: {
      type: {
        type: "string",
        value: "T",
        description: "Key type: ed25519 (the default), rsa or ecdsa",
      },
      concurrency: { type: "string", value: "N", description: "Devices installed at once" },
      canary: { type: "string", value: "N", description: "Devices installed first (0 skips)" },
      ...WAIT,
    },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const type = choiceOption(context, "type", KEY_TYPES, "keys rotate");
      const client = await context.client();
      const concurrency = positiveIntOption(context, "concurrency", "keys rotate");
      const canaryText = stringOption(context.args, "canary");
      if (canaryText !== undefined && !/^\d{1,3}$/.test(canaryText)) {
        throw new UsageError(
          `--canary must be a whole number of devices, 0 to skip (got ${canaryText})`,
          "keys rotate",
        );
      }
      const started = await client.rotateKeys({
        ...(type === undefined ? {} : { type }),
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(canaryText === undefined ? {} : { canary: Number(canaryText) }),
      });
      return finishStarted(context, [{ runId: started.runId }], started, "Rotation started");
    },
  },
  {
    words: ["keys", "list"],
    usage: "keys list",
    summary: "List the platform key generations: fingerprint, algorithm and status.",
    details:
      "CURRENT is installed on devices; PREVIOUS generations still heal devices that hold them; RETIRED ones are no longer used.",
    options: { ...LIST_OPTIONS },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const limit = positiveIntOption(context, "limit", "keys list");
      const client = await context.client();
      const page = await client.listKeys({ limit, cursor: stringOption(context.args, "cursor") });
      if (context.json) context.print(renderJson(page));
      else if (page.items.length === 0) {
        context.print("No platform key yet: import one (keys import) or make one (keys rotate).\n");
      } else {
        context.print(renderKeys(page.items));
        if (page.nextCursor) context.print(`More: --cursor ${page.nextCursor}\n`);
      }
      return EXIT.OK;
    },
  },
];
