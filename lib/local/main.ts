/**
 * `keyheal local start [--data-dir D] [--port P] [--inventory F] [--probe-interval 10s]`: the
 * local runtime in the foreground until SIGTERM or SIGINT. The CLI calls this; so do tests.
 *
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidInventoryError } from "../devices/errors.ts";
import { waitForStopSignal } from "../http/stop-signal.ts";
import { DURATION_EXAMPLES, parseDuration as durationMs } from "../validation/time.ts";
import { API_TOKEN_FILE, DATA_DIR_ENV, dataDirOf } from "./discovery.ts";
import { InvalidDataDirError, LocalUsageError, RuntimeLockedError } from "./errors.ts";
import { describeFault, watchProcessFaults } from "./process-faults.ts";
import { startLocalRuntime } from "./runtime.ts";

export const USAGE = `Usage: keyheal local start [--data-dir D] [--port P] [--inventory F] [--probe-interval 10s]

  --data-dir D          where the store, secrets, lock and API files live
                        (default $KEYHEAL_DATA_DIR, else ./.keyheal)
  --port P              API port on 127.0.0.1 (default: any free port; see D/api-url)
  --inventory F         register the devices of this YAML inventory at start
  --probe-interval T    pause between reconnect probes: 500ms, 10s, 1m; 0 turns probing off
                        (default 10s)
`;

export interface MainIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves with the signal that asks the runtime to stop; default SIGTERM or SIGINT. */
  stopSignal?: () => Promise<string>;
}

/** A duration in the grammar of `lib/validation/time.ts`; `0` turns probing off. */
export function parseDuration(value: string, flag: string): number {
  const ms = durationMs(value, { allowZero: true });
  if (ms === undefined) {
    throw new LocalUsageError(
      `${flag} must be ${DURATION_EXAMPLES}, or 0, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new LocalUsageError(
      `--port must be a port number from 0 to 65535, got ${JSON.stringify(value)}`,
    );
  }
  return port;
}

/**
 * Runs the local runtime until a stop signal, printing its URL and where its token is (never the
 * token). Returns the exit code: 0 after a clean stop, 2 for bad arguments, a bad inventory or
 * data directory, or a data directory another runtime holds, 3 when it cannot start for another
 * reason or stopped after an error nothing caught (logged, runs drained first).
 */
export async function runLocalRuntimeMain(argv: string[], io: MainIo): Promise<number> {
  let options: Parameters<typeof startLocalRuntime>[0];
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        port: { type: "string" },
        inventory: { type: "string" },
        "probe-interval": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    options = {
      dataDir: dataDirOf(values["data-dir"], io.env[DATA_DIR_ENV], process.cwd()),
      ...(values.port === undefined ? {} : { port: parsePort(values.port) }),
      ...(values.inventory === undefined ? {} : { inventory: resolve(values.inventory) }),
      ...(values["probe-interval"] === undefined
        ? {}
        : { probeIntervalMs: parseDuration(values["probe-interval"], "--probe-interval") }),
    };
  } catch (error) {
    io.err(`keyheal local start: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
  try {
    runtime = await startLocalRuntime(options);
  } catch (error) {
    io.err(`keyheal local start: ${(error as Error).message}\n`);
    // 1 means "a run failed" across the CLI; a runtime that cannot start is bad usage or input
    // (bad inventory, data directory held by another runtime), 3 anything unexpected.
    return error instanceof InvalidInventoryError ||
      error instanceof InvalidDataDirError ||
      error instanceof RuntimeLockedError
      ? 2
      : 3;
  }
  // The token stays in its 0600 file: stdout ends up in journald and CI logs. Only
  // `keyheal console` prints the signed-in console link, on request.
  const tokenFile = resolve(runtime.dataDir, API_TOKEN_FILE);
  io.out(
    [
      `keyheal local runtime ready (pid ${process.pid})`,
      `  API     ${runtime.url}`,
      `  token   in ${tokenFile} (mode 0600)`,
      `  console keyheal console --data-dir ${runtime.dataDir}   (prints the signed-in link)`,
      `  data    ${runtime.dataDir}`,
      ...(options.inventory
        ? [`  devices ${runtime.imported} registered from ${options.inventory}`]
        : []),
      "Stop with Ctrl-C or SIGTERM: runs in flight finish first.",
      "",
    ].join("\n"),
  );
  const faults = watchProcessFaults((fault) =>
    io.err(`keyheal local runtime: while stopping, ${describeFault(fault)}\n`),
  );
  const stop = await Promise.race([
    (io.stopSignal ?? (() => waitForStopSignal("keyheal local runtime")))(),
    faults.fault,
  ]);
  try {
    if (typeof stop === "string") {
      io.err(`keyheal local runtime: ${stop}, stopping\n`);
      await runtime.stop();
      return 0;
    }
    // Drain and exit non-zero (lib/local/process-faults.ts says why not to carry on).
    io.err(
      `keyheal local runtime: unexpected error, finishing runs in flight and stopping (exit 3)\n${describeFault(stop)}\n`,
    );
    await runtime.stop();
    return 3;
  } finally {
    faults.dispose();
  }
}
