import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeviceRegistration } from "../../lib/devices/types.ts";
import { createLocalDeps, type LocalDepsOptions } from "../../lib/local/local-deps.ts";
import { type LocalRunnerOptions, LocalWorkflowRunner } from "../../lib/local/workflow-runner.ts";
import type { RunStore } from "../../lib/store/runs.ts";
import type { WorkflowDeps } from "../../lib/workflows/deps.ts";
import { type DynamoHarness, startDynamo } from "./dynamo.ts";
import { type Fleet, startFleet, type TestDevice } from "./fleet.ts";

export interface WorkflowEnvOptions {
  /** How many sshd devices to start. */
  devices: number;
  /** Names the temp data dir: `keyheal-<name>-XXXXXX`. */
  name: string;
  /** Passed on to {@link createLocalDeps} (the harness supplies client, tables and dataDir). */
  local?: Omit<LocalDepsOptions, "client" | "tables" | "dataDir">;
  /** Passed on to the {@link LocalWorkflowRunner} (the harness supplies deps and runs). */
  runner?: Omit<LocalRunnerOptions, "deps" | "runs">;
}

export interface WorkflowEnv {
  fleet: Fleet;
  dynamo: DynamoHarness;
  /** Temp dir holding the file secret store; removed by {@link WorkflowEnv.stop}. */
  dataDir: string;
  deps: WorkflowDeps;
  runs: RunStore;
  runner: LocalWorkflowRunner;
  /** The fleet's i-th device. */
  device(i?: number): TestDevice;
  /** Registers `d` (its id, host, port, user as admin and host key pin) in `deps.devices`. */
  register(d: TestDevice, overrides?: Partial<DeviceRegistration>): Promise<void>;
  /** Stops the fleet and the store and removes the data dir. */
  stop(): Promise<void>;
}

/**
 * What a workflow test runs against: a fleet of real sshd devices, the embedded DynamoDB with
 * keyheal's tables, a file secret store in a temp dir, the local deps and a workflow runner.
 */
export async function startWorkflowEnv(options: WorkflowEnvOptions): Promise<WorkflowEnv> {
  const [fleet, dynamo] = await Promise.all([startFleet(options.devices), startDynamo()]);
  let dataDir: string | undefined;
  const stop = async () => {
    await Promise.all([fleet.stop(), dynamo.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    dataDir = await mkdtemp(join(tmpdir(), `keyheal-${options.name}-`));
    const { deps, runs } = createLocalDeps({
      client: dynamo.client,
      tables: dynamo.tables,
      dataDir,
      ...options.local,
    });
    const runner = new LocalWorkflowRunner({ deps, runs, ...options.runner });
    const device = (i = 0) => {
      const d = fleet.devices[i];
      if (!d) throw new Error(`the fleet has no device ${i}`);
      return d;
    };
    const register = async (d: TestDevice, overrides: Partial<DeviceRegistration> = {}) => {
      await deps.devices.register({
        id: d.id,
        host: d.host,
        port: d.port,
        adminUser: d.user,
        hostKeyFingerprint: d.hostKeyFingerprint,
        ...overrides,
      });
    };
    return { fleet, dynamo, dataDir, deps, runs, runner, device, register, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
