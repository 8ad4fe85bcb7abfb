/**
 * `keyheal local start`: runs the local runtime in this process, in the foreground. The runtime
 * (lib/local) parses its own flags and prints its own help; this file only hands it the command
 * line, the streams and the data directory from the environment.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CommandSpec, NO_POSITIONALS } from "./command.ts";
import { ensureConsoleBuilt } from "./console-build.ts";
import { CliError, EXIT } from "./errors.ts";

const RUNTIME = new URL("../local/main.ts", import.meta.url);
/** The console the runtime serves (lib/local/console-files.ts) and what builds it. */
const CONSOLE = {
  webDir: fileURLToPath(new URL("../../web", import.meta.url)),
  outDir: fileURLToPath(new URL("../../web/dist", import.meta.url)),
  viteBin: fileURLToPath(new URL("../../node_modules/vite/bin/vite.js", import.meta.url)),
};

/** What lib/local/main.ts exports for the CLI. */
type RunLocalRuntimeMain = (
  argv: string[],
  io: {
    out: (text: string) => void;
    err: (text: string) => void;
    env: Record<string, string | undefined>;
  },
) => Promise<number>;

/**
 * The runtime's entry, imported only when asked for: `keyheal --help` and every API command stay
 * fast, and the CLI works in a checkout where the runtime is not built.
 */
async function loadRuntime(): Promise<RunLocalRuntimeMain> {
  const missing = new CliError(
    "the local runtime is not part of this checkout (lib/local/main.ts with runLocalRuntimeMain); point the CLI at a running API with KEYHEAL_API and KEYHEAL_TOKEN instead",
    EXIT.USAGE,
  );
  if (!existsSync(RUNTIME)) throw missing;
  // A computed specifier: the module is optional, so the type checker must not require it.
  const module = (await import(RUNTIME.href)) as { runLocalRuntimeMain?: unknown };
  if (typeof module.runLocalRuntimeMain !== "function") throw missing;
  return module.runLocalRuntimeMain as RunLocalRuntimeMain;
}

export const localCommands: CommandSpec[] = [
  {
    words: ["local", "start"],
    usage: "local start [--data-dir D] [--port P] [--inventory F] [--probe-interval T]",
    summary:
      "Run the local runtime in the foreground: embedded store, workflows, ops API on 127.0.0.1.",
    details: [
      "Writes the API's URL and token (mode 0600) to D/api-url and D/api-token, where the other",
      "commands find them. Stop it with Ctrl-C or SIGTERM: runs in flight finish first.",
      "Builds the console (web/dist) first when it is missing or older than its sources.",
    ].join("\n"),
    options: {},
    passthrough: true,
    positionals: NO_POSITIONALS,
    api: false,
    json: false,
    async run(context) {
      const argv = context.args.positionals;
      if (!existsSync(RUNTIME) && (argv.includes("--help") || argv.includes("-h"))) {
        context.showHelp();
        return EXIT.OK;
      }
      const runLocalRuntimeMain = await loadRuntime();
      const asksHelp = argv.includes("--help") || argv.includes("-h");
      // After `npm ci` alone there is no build yet: make it before the runtime serves /console/.
      if (!asksHelp) {
        await ensureConsoleBuilt({
          ...CONSOLE,
          log: (line) => context.io.stderr.write(`${line}\n`),
        });
      }
      return runLocalRuntimeMain([...context.args.positionals], {
        out: (text) => context.io.stdout.write(text),
        err: (text) => context.io.stderr.write(text),
        env: { KEYHEAL_DATA_DIR: context.io.env.dataDir },
      });
    },
  },
];
