/**
 * The `keyheal` command line: routes argv to one command, renders help from the commands'
 * declarations, and turns errors into one message and an exit code (see errors.ts).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { editDistance, parseArgs, refuseSecretsOnArgv } from "./args.ts";
import {
  type CommandSpec,
  commandName,
  createContext,
  DATA_DIR_OPTION,
  HELP_OPTION,
  JSON_OPTION,
  NO_POSITIONALS,
  optionsOf,
  SIGV4_OPTION,
} from "./command.ts";
import { completionScript, SHELLS, type Shell } from "./completion.ts";
import { consoleCommands } from "./console.ts";
import { devicesCommands } from "./devices.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { eventsCommands } from "./events.ts";
import { failuresCommands } from "./failures.ts";
import type { CliIo } from "./io.ts";
import { jobsCommands } from "./jobs.ts";
import { keysCommands } from "./keys.ts";
import { localCommands } from "./local.ts";
import { renderJson } from "./output.ts";
import { resolveCommands } from "./resolve.ts";
import { runsCommands } from "./runs.ts";

export const COMMANDS: CommandSpec[] = [
  ...localCommands,
  ...devicesCommands,
  ...keysCommands,
  ...eventsCommands,
  ...resolveCommands,
  ...failuresCommands,
  ...runsCommands,
  ...jobsCommands,
  ...consoleCommands,
];

/** `version` and `completion`: about the CLI itself, so they need no runtime. */
const metaCommands: CommandSpec[] = [
  {
    words: ["version"],
    usage: "version [--json]",
    summary: "Print keyheal's version (also `--version` after any command).",
    options: {},
    positionals: NO_POSITIONALS,
    api: false,
    json: true,
    async run(context) {
      context.print(context.json ? renderJson({ version: version() }) : `keyheal ${version()}\n`);
      return EXIT.OK;
    },
  },
  {
    words: ["completion"],
    usage: "completion bash|zsh|fish",
    summary: "Print a shell completion script for the commands and options of this version.",
    details: [
      'bash: eval "$(keyheal completion bash)" in ~/.bashrc',
      'zsh:  eval "$(keyheal completion zsh)" in ~/.zshrc',
      "fish: keyheal completion fish > ~/.config/fish/completions/keyheal.fish",
    ].join("\n"),
    options: {},
    positionals: { name: "SHELL", min: 1, max: 1 },
    api: false,
    json: false,
    async run(context) {
      const shell = context.args.positionals[0] as string;
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(
          `no completion for ${JSON.stringify(shell)}: give one of ${SHELLS.join(", ")}`,
          "completion",
          "SHELL",
        );
      }
      context.print(completionScript(shell as Shell, COMMANDS));
      return EXIT.OK;
    },
  },
];

COMMANDS.push(...metaCommands);

const EXIT_CODES_HELP =
  "Exit codes: 0 success · 1 a run failed · 2 bad usage or input, or no runtime to talk to · 3 the API failed on its side · 4 no AWS credentials. With --json, an error is JSON on stderr: { error: { code, message, field, exitCode } }.";

const DISCOVERY_HELP = [
  "Finding the API, first match wins: --data-dir D; KEYHEAL_API with KEYHEAL_TOKEN, or signed",
  "with SigV4 and the AWS credentials when it is https://ID.execute-api.REGION.amazonaws.com/STAGE",
  "(any URL with --sigv4 or KEYHEAL_API_SIGV4=1); KEYHEAL_DATA_DIR; ./.keyheal. A data directory",
  "holds the api-url and api-token files that `keyheal local start` writes.",
].join("\n");

const SECRETS_HELP =
  "Secrets come from stdin (--password-stdin, --passphrase-stdin) or files, never from the command line.";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

/** The options part of a command line: what comes before `--`. */
function optionWords(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf("--");
  return end === -1 ? argv : argv.slice(0, end);
}

function optionLines(
  entries: readonly [string, { type: string; value?: string; description: string }][],
) {
  const labels = entries.map(([name, spec]) =>
    name === "help"
      ? "-h, --help"
      : `--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`,
  );
  const width = Math.max(...labels.map((label) => label.length));
  return entries
    .map(([, spec], index) => `  ${(labels[index] as string).padEnd(width)}  ${spec.description}`)
    .join("\n");
}

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((spec) => commandName(spec).length));
  const commands = COMMANDS.map(
    (spec) => `  ${commandName(spec).padEnd(width)}  ${spec.summary}`,
  ).join("\n");
  return [
    "keyheal: keep a fleet's SSH keys in agreement with one platform key, and heal key conflicts.",
    "",
    "Usage: keyheal COMMAND [options]",
    "",
    "Commands:",
    commands,
    "",
    "Options for most commands:",
    optionLines([
      ["json", JSON_OPTION],
      ["data-dir", DATA_DIR_OPTION],
      ["sigv4", SIGV4_OPTION],
      [
        "help",
        { ...HELP_OPTION, description: "Show help; `keyheal COMMAND --help` for one command" },
      ],
      ["version", { type: "boolean", description: "Print the version" }],
    ]),
    "",
    DISCOVERY_HELP,
    SECRETS_HELP,
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries(optionsOf(spec));
  return [
    `Usage: keyheal ${spec.usage}`,
    "",
    spec.summary,
    ...(spec.details ? ["", spec.details] : []),
    "",
    "Options:",
    optionLines(options),
    "",
    ...(spec.api ? [DISCOVERY_HELP] : []),
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

function groupHelp(group: string, specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((spec) => spec.usage.length));
  return [
    `Usage: keyheal ${group} COMMAND`,
    "",
    "Commands:",
    ...specs.map((spec) => `  keyheal ${spec.usage.padEnd(width)}\n      ${spec.summary}`),
    "",
    `Run \`keyheal ${group} COMMAND --help\` for one command.`,
    "",
  ].join("\n");
}

/** The command `argv` names, and the arguments after its words. */
function route(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | { help: string } {
  const [first, second] = argv;
  const single = COMMANDS.find((spec) => spec.words.length === 1 && spec.words[0] === first);
  if (single) return { spec: single, rest: argv.slice(1) };
  const group = COMMANDS.filter((spec) => spec.words[0] === first);
  if (group.length === 0) {
    const known = [...new Set(COMMANDS.map((spec) => spec.words[0] as string))];
    const near = known.find((word) => editDistance(word, first ?? "") <= 2);
    throw new UsageError(
      `unknown command ${JSON.stringify(first)}${near ? ` (did you mean ${near}?)` : ""}; run \`keyheal --help\` for the list`,
    );
  }
  const spec = group.find((each) => each.words[1] === second);
  if (spec) return { spec, rest: argv.slice(2) };
  const help = groupHelp(first as string, group);
  if (second === "--help" || second === "-h") return { help };
  const verbs = group.map((each) => each.words[1]).join(", ");
  throw new UsageError(
    second === undefined
      ? `${first} needs a command: ${verbs}`
      : `unknown command "${first} ${second}"; ${first} has: ${verbs}`,
  );
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  refuseSecretsOnArgv(argv);
  // `--version` anywhere, as most command lines accept it: `keyheal devices list --version`.
  if (optionWords(argv).includes("--version")) {
    io.stdout.write(
      optionWords(argv).includes("--json")
        ? renderJson({ version: version() })
        : `keyheal ${version()}\n`,
    );
    return EXIT.OK;
  }
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(topHelp());
    return EXIT.USAGE;
  }
  if (first === "--help" || first === "-h") {
    io.stdout.write(topHelp());
    return EXIT.OK;
  }
  if (first === "help") {
    if (argv.length === 1) {
      io.stdout.write(topHelp());
      return EXIT.OK;
    }
    return dispatch([...argv.slice(1), "--help"], io);
  }
  if (first.startsWith("-")) {
    throw new UsageError(`options go after the command: keyheal COMMAND ${first} …`);
  }
  const routed = route(argv);
  if ("help" in routed) {
    io.stdout.write(routed.help);
    return EXIT.OK;
  }
  const { spec, rest } = routed;
  const name = commandName(spec);
  const help = () => commandHelp(spec);
  if (spec.passthrough) {
    return spec.run(createContext({ values: {}, positionals: rest }, io, help));
  }
  const args = parseArgs(rest, optionsOf(spec), name);
  if (args.values.help === true) {
    io.stdout.write(help());
    return EXIT.OK;
  }
  const { min, max, name: positional } = spec.positionals;
  if (args.positionals.length < min) throw new UsageError(`${positional} is missing`, name);
  if (args.positionals.length > max) {
    const extra = args.positionals[max] as string;
    throw new UsageError(
      max === 0
        ? `unexpected argument ${JSON.stringify(extra)}`
        : `too many arguments: ${JSON.stringify(extra)}`,
      name,
    );
  }
  return spec.run(createContext(args, io, help));
}

/** Runs one command line; resolves to the exit code, having printed any error on stderr. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (optionWords(argv).includes("--json")) return printJsonError(error, io);
    if (error instanceof CliError) {
      io.stderr.write(`keyheal: ${error.message}\n`);
      if (error instanceof UsageError && error.command !== undefined) {
        const spec = COMMANDS.find((each) => commandName(each) === error.command);
        if (spec) {
          io.stderr.write(
            `Usage: keyheal ${spec.usage}\nSee \`keyheal ${error.command} --help\`.\n`,
          );
        }
      }
      return error.exitCode;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`keyheal: unexpected error (a bug in keyheal; please report it):\n${detail}\n`);
    return EXIT.SERVER;
  }
}

/**
 * `--json`: the error as `{ error: { code, message, field, exitCode } }` on stderr, so a program
 * reads what went wrong without parsing prose. stdout stays empty, as for any failure.
 */
function printJsonError(error: unknown, io: CliIo): number {
  const known = error instanceof CliError;
  const exitCode = known ? error.exitCode : EXIT.SERVER;
  const body = {
    code: known ? error.code : "INTERNAL",
    message: known
      ? error.message
      : `unexpected error (a bug in keyheal; please report it): ${error instanceof Error ? error.message : String(error)}`,
    field: known ? (error.field ?? null) : null,
    exitCode,
  };
  io.stderr.write(`${JSON.stringify({ error: body })}\n`);
  return exitCode;
}
