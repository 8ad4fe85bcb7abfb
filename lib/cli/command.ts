/**
 * What a command is: its words, usage line, options and handler. Each command-group file exports
 * a list of these; main.ts routes argv to one and renders help from the same declarations.
 *
 * @module
 */
import { DEVICE_ID_PATTERN, USERNAME_PATTERN } from "../contract/vocabulary.ts";
import { ApiClient } from "./api-client.ts";
import { flag, type OptionSpecs, type ParsedArgs, stringOption } from "./args.ts";
import { discoverApi } from "./config.ts";
import { UsageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export interface CommandContext {
  args: ParsedArgs;
  io: CliIo;
  /** `--json` was given: print the fixed JSON shapes, nothing else on stdout. */
  json: boolean;
  /** The API client, discovered on first use (a usage error needs no runtime). */
  client(): Promise<ApiClient>;
  /** Writes to stdout. */
  print(text: string): void;
  /** The terminal's width when stdout is one, for tables to fit; undefined for a pipe or file. */
  width: number | undefined;
  /** Prints this command's `--help`. */
  showHelp(): void;
}

export interface CommandSpec {
  /** `["failures", "list"]` */
  words: readonly string[];
  /** Usage after `keyheal `: `failures list [--device D] [--cause C] [--since 24h]`. */
  usage: string;
  summary: string;
  /** Paragraphs after the summary in `--help`. */
  details?: string;
  options: OptionSpecs;
  /** Positional arguments: how many, and their name for messages. */
  positionals: { name: string; min: number; max: number };
  /** Whether the command calls the API (adds `--data-dir`, `--sigv4`); `local start` declares its own. */
  api: boolean;
  /** Whether `--json` applies. */
  json: boolean;
  /**
   * The command parses its own flags: `args.positionals` is its whole command line, untouched
   * (`--help` included once its module is available).
   */
  passthrough?: boolean;
  run(context: CommandContext): Promise<number>;
}

/** The contract's rules (lib/contract/vocabulary.ts, which imports nothing: parsing a command line loads no zod). */
export { DEVICE_ID_PATTERN, USERNAME_PATTERN };

/** A device id given on the command line, or a UsageError. */
export function checkDeviceId(id: string, command: string, what = "DEVICE_ID"): string {
  if (!DEVICE_ID_PATTERN.test(id) || id.length > 128) {
    throw new UsageError(
      `${what} ${JSON.stringify(id)} is not a device id: 1 to 128 letters, digits and . _ : -`,
      command,
    );
  }
  return id;
}

export const NO_POSITIONALS = { name: "", min: 0, max: 0 } as const;

export const DATA_DIR_OPTION = {
  type: "string",
  value: "D",
  description:
    "Data directory of the local runtime, holding api-url and api-token (default: $KEYHEAL_DATA_DIR, else ./.keyheal)",
} as const;

export const SIGV4_OPTION = {
  type: "boolean",
  description:
    "Sign calls to KEYHEAL_API with SigV4 and the AWS credentials (automatic for an execute-api URL)",
} as const;

export const WAIT_OPTION = {
  type: "boolean",
  description:
    "Block until the started runs end (live progress on a terminal); exit 1 if any FAILED. With --json, print the ended runs as { items, nextCursor }",
} as const;

export const JSON_OPTION = {
  type: "boolean",
  description: "Print JSON in the fixed shapes of the contract instead of a table",
} as const;

/** `--limit` and `--cursor`, for list commands. */
export const LIST_OPTIONS = {
  limit: {
    type: "string",
    value: "N",
    description: "Print at most N (with --json, nextCursor tells where to go on)",
  },
  cursor: { type: "string", value: "C", description: "Start at a nextCursor a --limit list gave" },
} as const;

export const HELP_OPTION = { type: "boolean", description: "Show this help" } as const;

/** Every option a command accepts: its own, then the shared ones. */
export function optionsOf(spec: CommandSpec): OptionSpecs {
  return {
    ...spec.options,
    ...(spec.api ? { "data-dir": DATA_DIR_OPTION, sigv4: SIGV4_OPTION } : {}),
    ...(spec.json ? { json: JSON_OPTION } : {}),
    help: HELP_OPTION,
  };
}

export function commandName(spec: CommandSpec): string {
  return spec.words.join(" ");
}

export function createContext(args: ParsedArgs, io: CliIo, help: () => string): CommandContext {
  let client: Promise<ApiClient> | undefined;
  return {
    args,
    io,
    json: flag(args, "json"),
    width: io.stdout.isTTY === true ? io.stdout.columns : undefined,
    client() {
      client ??= discoverApi(
        stringOption(args, "data-dir"),
        io.env,
        io.cwd,
        flag(args, "sigv4"),
      ).then((target) => new ApiClient(target));
      return client;
    },
    print(text) {
      io.stdout.write(text);
    },
    showHelp() {
      io.stdout.write(help());
    },
  };
}

/** A positive whole number option (`--limit 50`), or undefined when absent. */
export function positiveIntOption(context: CommandContext, name: string, command: string) {
  const text = stringOption(context.args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(
      `--${name} must be a whole number of at least 1 (got ${text})`,
      command,
      `--${name}`,
    );
  }
  return Number(text);
}

/** One of `allowed`, matched case-insensitively and returned in its canonical spelling. */
export function choiceOption<T extends string>(
  context: CommandContext,
  name: string,
  allowed: readonly T[],
  command: string,
): T | undefined {
  const text = stringOption(context.args, name);
  if (text === undefined) return undefined;
  const match = allowed.find((each) => each.toLowerCase() === text.toLowerCase());
  if (match === undefined) {
    throw new UsageError(
      `--${name} must be one of ${allowed.join(", ")} (got ${text})`,
      command,
      `--${name}`,
    );
  }
  return match;
}
