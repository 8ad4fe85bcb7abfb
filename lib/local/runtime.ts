/**
 * The local runtime (docs/architecture.md, Contracts): one process holding the embedded store on disk, the workflow
 * interpreter, the ops HTTP API on 127.0.0.1 behind a bearer token, and reconnect detection by
 * TCP probe. `keyheal local start` runs it through `runLocalRuntimeMain` (main.ts).
 *
 * @module
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "@aws-lambda-powertools/logger";
import { registerAll } from "../api/handlers/devices.ts";
import type { ApiContext } from "../api/types.ts";
import { readInventoryFile } from "../devices/inventory.ts";
import type { DeviceRegistration } from "../devices/types.ts";
import { deviceReconnectedEvent } from "../events/build.ts";
import { IntakeStats } from "../events/intake-stats.ts";
import { generateToken } from "../http/bearer.ts";
import { logger as defaultLogger } from "../lambda/powertools.ts";
import type { SshTimeouts } from "../ssh/session.ts";
import { withSearchKeys } from "../store/dynamo-device-store.ts";
import { DynamoJobStore } from "../store/dynamo-job-store.ts";
import {
  createEmbeddedDocumentClient,
  type EmbeddedDynamo,
  startEmbeddedDynamo,
} from "../store/embedded.ts";
import { createTables, tableNames } from "../store/tables.ts";
import { type IntakeDeps, intakeEvent } from "../workflows/intake.ts";
import { LocalStarter } from "../workflows/starters.ts";
import { removeDiscovery, writeDiscovery } from "./discovery.ts";
import { InvalidDataDirError } from "./errors.ts";
import { type ApiServer, startApiServer } from "./http-server.ts";
import { createLocalDeps } from "./local-deps.ts";
import { acquireRuntimeLock } from "./lock.ts";
import { applyRuntimeHeapPolicy } from "./memory.ts";
import { ProbeLoop } from "./probe-loop.ts";
import { recoverInterruptedRuns } from "./recover-runs.ts";
import { SecretSweeper } from "./secret-sweeper.ts";
import { type LocalRunnerOptions, LocalWorkflowRunner } from "./workflow-runner.ts";

export const DEFAULT_PROBE_INTERVAL_MS = 10_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;

export interface LocalRuntimeOptions {
  /** Created (mode 0700) when missing. Holds `db/`, `secrets/`, the lock and discovery files. */
  dataDir: string;
  /** API port on 127.0.0.1; default 0, any free port (the URL is in `<dataDir>/api-url`). */
  port?: number;
  /** Inventory YAML registered at start (known devices keep their status and history). */
  inventory?: string;
  /** Pause between probe sweeps; 0 turns reconnect detection off. Default 10 s. */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  probeConcurrency?: number;
  sshTimeouts?: Partial<SshTimeouts>;
  /** Pause between sweeps of expired operator secrets; default 1 minute. */
  secretSweepIntervalMs?: number;
  /** How long shutdown waits for runs in flight before leaving them to the next start. */
  drainTimeoutMs?: number;
  /** Default: the Powertools logger every task logs through. */
  log?: Logger;
  /**
   * Shorter Wait states and Retry pauses, by state name, in ms (tests that run many events);
   * the product waits as the ASL files say.
   */
  pauses?: Pick<LocalRunnerOptions, "waitTimeOverrides" | "retryIntervalOverrides">;
  /** Wraps each Task's handler: reliability tests cut the runtime around a step. */
  wrapTask?: LocalRunnerOptions["wrap"];
}

export interface LocalRuntime {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  dataDir: string;
  /** Devices registered from the inventory at start. */
  imported: number;
  /** Stops the probe loop and the API, waits for runs, closes the store, removes lock and files. */
  stop(): Promise<void>;
}

/**
 * Starts the local runtime on `dataDir`.
 *
 * @throws InvalidInventoryError for a bad inventory, before anything is touched.
 * @throws RuntimeLockedError when another live runtime holds the data directory.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  applyRuntimeHeapPolicy();
  const dataDir = resolve(options.dataDir);
  const log = (options.log ?? defaultLogger).createChild({
    persistentKeys: { component: "local-runtime" },
  });
  const inventory: DeviceRegistration[] = options.inventory
    ? await readInventoryFile(options.inventory)
    : [];
  await ensureDataDir(dataDir);
  const lock = await acquireRuntimeLock(dataDir);

  // Undone in reverse: probe loop, API, drain, store, discovery files, lock (docs/architecture.md, Local mode and AWS).
  const cleanups: Array<() => Promise<void>> = [
    () => lock.release(),
    () => removeDiscovery(dataDir),
  ];
  const unwind = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const store: EmbeddedDynamo = await startEmbeddedDynamo({
      path: join(dataDir, "db"),
      socketDir: join(dataDir, "store"),
    });
    const client = createEmbeddedDocumentClient(store);
    cleanups.push(async () => {
      client.destroy();
      await store.close();
    });
    const tables = tableNames();
    await createTables(client, tables, { upgrade: { devices: withSearchKeys } });
    const { deps, runs, secrets } = createLocalDeps({
      client,
      tables,
      dataDir,
      ...(options.sshTimeouts ? { sshTimeouts: options.sshTimeouts } : {}),
    });
    const runner = new LocalWorkflowRunner({
      deps,
      runs,
      ...options.pauses,
      ...(options.wrapTask ? { wrap: options.wrapTask } : {}),
    });
    const starter = new LocalStarter(runner);
    const intake: IntakeDeps = {
      devices: deps.devices,
      starter,
      stats: new IntakeStats(),
      logger: log,
    };
    cleanups.push(() => drain(runner, options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, log));

    const recovered = await recoverInterruptedRuns(runs, deps.devices);
    if (recovered.interrupted.length > 0) log.warn("interrupted runs ended", { ...recovered });
    // No run survives a restart, so no operator secret is still needed: a runtime killed
    // mid-resolve leaves none behind past its next start.
    const purged = await secrets.purgeShortLived();
    if (purged > 0) log.info("operator secrets of ended runs deleted", { purged });
    const sweeper = new SecretSweeper({
      store: secrets,
      ...(options.secretSweepIntervalMs ? { intervalMs: options.secretSweepIntervalMs } : {}),
      log,
    });
    sweeper.start();
    cleanups.push(() => sweeper.stop());
    if (inventory.length > 0) {
      await registerAll(deps.devices, inventory);
      log.info("inventory imported", { source: options.inventory, devices: inventory.length });
    }
    // Devices an interrupted run left half-done are checked again, as if they had reconnected.
    for (const deviceId of recovered.devices) {
      await intakeEvent(
        intake,
        deviceReconnectedEvent({ deviceId, reason: "resume after an interrupted run" }),
      );
    }

    const jobs = new DynamoJobStore({ client, tableName: tables.jobs });
    const context: ApiContext = { deps, runs, jobs, starter, intake };
    const token = generateToken();
    const server: ApiServer = await startApiServer({
      context,
      token,
      ...(options.port === undefined ? {} : { port: options.port }),
      log,
    });
    cleanups.push(() => server.close());
    await writeDiscovery(dataDir, server.url, token);
    await lock.setUrl(server.url);

    const interval = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    let probe: ProbeLoop | undefined;
    if (interval > 0) {
      probe = new ProbeLoop({
        devices: deps.devices,
        intake: (event) => intakeEvent(intake, event),
        intervalMs: interval,
        ...(options.probeTimeoutMs ? { timeoutMs: options.probeTimeoutMs } : {}),
        ...(options.probeConcurrency ? { concurrency: options.probeConcurrency } : {}),
        log,
      });
      probe.start();
      const loop = probe;
      cleanups.push(() => loop.stop());
    }
    log.info("local runtime started", {
      url: server.url,
      dataDir,
      pid: process.pid,
      probeIntervalMs: interval,
    });

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      token,
      dataDir,
      imported: inventory.length,
      stop: () => {
        stopping ??= (async () => {
          log.info("local runtime stopping");
          await unwind();
          log.info("local runtime stopped");
        })();
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** A new data directory is private (0700); an existing one is left as its owner set it. */
async function ensureDataDir(dataDir: string): Promise<void> {
  const info = await stat(dataDir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new InvalidDataDirError(dataDir);
  if (info) return;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
}

/** Waits for runs in flight, at most `timeoutMs`; what is left ends as interrupted next start. */
async function drain(
  runner: LocalWorkflowRunner,
  timeoutMs: number,
  log: Pick<Logger, "warn">,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([runner.drain().then(() => false), timedOut]);
  clearTimeout(timer);
  if (late)
    log.warn("runs still in flight at shutdown; they resume at the next start", { timeoutMs });
}
