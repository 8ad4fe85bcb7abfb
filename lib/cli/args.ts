/**
 * The command line of one command: `--flag`, `--flag value`, `--flag=value`, `-h`, `--` and
 * positionals, checked against the command's declared options. Pure: argv in, values out, or a
 * {@link UsageError} that names the flag.
 *
 * @module
 */
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
 * Parses `argv` against `options`. `-h` is `--help`; a lone `-` is a positional (stdin).
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
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "-h") {
      values.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      throw new UsageError(`unknown option ${arg}${suggestion(arg, options)}`, command, arg);
    }
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined) {
      throw new UsageError(
        `unknown option --${name}${suggestion(`--${name}`, options)}`,
        command,
        `--${name}`,
      );
    }
    if (Object.hasOwn(values, name)) {
      throw new UsageError(`--${name} is given twice`, command, `--${name}`);
    }
    if (spec.type === "boolean") {
      if (inline !== undefined)
        throw new UsageError(`--${name} takes no value`, command, `--${name}`);
      values[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[index + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(
          `--${name} needs a value (${spec.value ?? "VALUE"})`,
          command,
          `--${name}`,
        );
      }
      value = next;
      index += 1;
    }
    if (value === "")
      throw new UsageError(`--${name} needs a non-empty value`, command, `--${name}`);
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

/** Levenshtein distance; option names are short, so the quadratic table is fine. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
