import type { DeviceStatusUpdate } from "../../devices/types.ts";
import type { Cause } from "../../failures/causes.ts";
import type { Operation } from "../../failures/errors.ts";
import { LeaseLostError } from "../../store/errors.ts";
import type { WorkflowDeps } from "../deps.ts";
import { statusAfterFailure } from "./common.ts";
import { leaseLost } from "./lease.ts";

export interface MarkHealthyInput {
  deviceId: string;
  generation: number | null;
  hostKeyFingerprint: string;
  /** Whether keys were written in this run (a heal, not a device found already current). */
  healed: boolean;
  custom?: boolean;
  /** The run's start (`$$.Execution.StartTime`), for the run-duration metric. */
  startedAt?: string;
  /** The run holding the device's lease: the write is applied only while it still does. */
  owner?: string | null;
  /** Give the lease back in the same write (a rotation's last step on the device). */
  release?: boolean | null;
}

/** A status write fenced by the run's lease: a run that lost it records that, and changes nothing. */
async function fencedUpdate(
  deps: WorkflowDeps,
  deviceId: string,
  update: DeviceStatusUpdate,
  owner: string | null | undefined,
  operation: Operation,
  release = false,
) {
  try {
    return await deps.devices.update(
      deviceId,
      update,
      owner ? { leaseOwner: owner, release } : undefined,
    );
  } catch (error) {
    if (error instanceof LeaseLostError) throw leaseLost(deps, error, operation);
    throw error;
  }
}

function recordDuration(deps: WorkflowDeps, startedAt: string | undefined, outcome: string) {
  const started = startedAt ? Date.parse(startedAt) : Number.NaN;
  if (Number.isNaN(started)) return;
  deps.metrics.addMetric(`RunDuration_${outcome}`, "Milliseconds", deps.now().getTime() - started);
}

/** The device holds the generation just proven on a connection (or an adopted custom key). */
export async function markHealthy(deps: WorkflowDeps, input: MarkHealthyInput) {
  const now = deps.now().toISOString();
  const device = await fencedUpdate(
    deps,
    input.deviceId,
    {
      status: input.custom ? "CUSTOM_KEY_BASED" : "KEY_BASED",
      keyGeneration: input.custom ? null : input.generation,
      keyProvenAt: now,
      hostKeyFingerprint: input.hostKeyFingerprint,
      lastFailureCause: null,
      lastCheckedAt: now,
    },
    input.owner,
    "VERIFY",
    input.release === true,
  );
  if (input.healed) deps.metrics.addMetric("ConflictsHealed", "Count", 1);
  recordDuration(deps, input.startedAt, "Succeeded");
  return { status: device.status, keyGeneration: device.keyGeneration };
}

/** The device failed with this cause; its status says what state it is left in. */
export async function markFailed(
  deps: WorkflowDeps,
  input: {
    deviceId: string;
    failure: { cause: Cause; operation: Operation };
    startedAt?: string;
    owner?: string | null;
  },
) {
  recordDuration(deps, input.startedAt, "Failed");
  // A failed resolve keeps the status from before its run (AcquireLease kept it on the device).
  const previous =
    input.failure.operation === "RESOLVE"
      ? (await deps.devices.get(input.deviceId))?.statusBeforeRun
      : undefined;
  const status = statusAfterFailure(input.failure.cause, input.failure.operation, previous);
  const device = await fencedUpdate(
    deps,
    input.deviceId,
    { status, lastFailureCause: input.failure.cause, lastCheckedAt: deps.now().toISOString() },
    input.owner,
    input.failure.operation,
  );
  return { status: device.status };
}
