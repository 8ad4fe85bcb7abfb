/**
 * The command line of one command: `--flag`, `--flag value`, `--flag=value`, `-h`, `--` and
 * positionals, read by `node:util` `parseArgs` and checked against the command's declared options.
 * Pure: argv in, values out, or a {@link UsageError} that names the flag.
 *
 * @module
 */
import { parseArgs as nodeParseArgs } from "node:util";
import { distance as editDistance } from "fastest-levenshtein";
import { SecretOnArgvError, UsageError } from "./errors.ts";

export interface OptionSpec {
  type: "boolean" | "string";
  /** Placeholder in help (`D`, `FILE`); string options only. */
  value?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ParsedArgs {
  /** String options hold their value, boolean options `true`; absent options are missing. */
  values: Readonly<Record<string, string | true>>;
  positionals: readonly string[];
}

/**
 * Flags that would carry a secret on argv, refused before anything else is parsed, each with
 * what to do instead.
 */
const SECRET_FLAGS: Readonly<Record<string, string>> = {
  "--password": "pipe it on stdin with --password-stdin",
  "--passphrase": "pipe it on stdin with --passphrase-stdin",
  "--token": "set KEYHEAL_TOKEN, or let keyheal read api-token from the data directory",
  "--api-token": "set KEYHEAL_TOKEN, or let keyheal read api-token from the data directory",
  "--private-key-data": "give the key as a file with --private-key FILE or --custom-key FILE",
  "--secret": "give it on stdin or in a file",
};

/**
 * Refuses a secret given on the command line (`--password x`, `--password=x`), whatever the
 * command, so the message is about the secret and not about an unknown flag.
 *
 * @throws SecretOnArgvError
 */
export function refuseSecretsOnArgv(argv: readonly string[]): void {
  for (const arg of argv) {
    if (arg === "--") return;
    const name = arg.split("=", 1)[0] ?? arg;
    const instead = SECRET_FLAGS[name];
    if (instead !== undefined) throw new SecretOnArgvError(name, instead);
  }
}

/**
 * Parses `argv` against `options` with `node:util`'s `parseArgs`, then checks its tokens so each
 * refusal names the flag and what to do. `-h` is `--help`; a lone `-` is a positional (stdin).
 *
 * @param command names the command in messages (`"failures list"`).
 * @throws UsageError for an unknown flag (with the closest known one), a missing value, a value
 *   given to a boolean flag, or a flag given twice.
 */
export function parseArgs(
  argv: readonly string[],
  options: OptionSpecs,
  command: string,
): ParsedArgs {
  const config: Record<string, { type: "boolean" | "string"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, spec] of Object.entries(options)) config[name] = { type: spec.type };
  const { tokens } = nodeParseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const { name, rawName } = token;
    if (rawName === "-h") {
      values.help = true;
      continue;
    }
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined || !rawName.startsWith("--")) {
      const hint = rawName.startsWith("--") ? suggestion(rawName, options) : "";
      throw new UsageError(`unknown option ${rawName}${hint}`, command, rawName);
    }
    if (Object.hasOwn(values, name)) {
      throw new UsageError(`${rawName} is given twice`, command, rawName);
    }
    if (spec.type === "boolean") {
      if (token.value !== undefined)
        throw new UsageError(`${rawName} takes no value`, command, rawName);
      values[name] = true;
      continue;
    }
    const value = token.value;
    // parseArgs takes the next word as the value even when it is another flag: `--device --all`
    // is a forgotten value, not a device named "--all".
    if (value === undefined || (!token.inlineValue && value.startsWith("--") && value.length > 2)) {
      throw new UsageError(`${rawName} needs a value (${spec.value ?? "VALUE"})`, command, rawName);
    }
    if (value === "") throw new UsageError(`${rawName} needs a non-empty value`, command, rawName);
    values[name] = value;
  }
  return { values, positionals };
}

/** The value of a string option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

/** Whether a boolean option was given. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

function suggestion(given: string, options: OptionSpecs): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of Object.keys(options)) {
    const distance = editDistance(given, `--${name}`);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean --${best}?)`;
}

export { editDistance };
