import type { Cause } from "../../failures/causes.ts";
import type { Operation } from "../../failures/errors.ts";
import type { WorkflowDeps } from "../deps.ts";
import { statusAfterFailure } from "./common.ts";

export interface MarkHealthyInput {
  deviceId: string;
  generation: number | null;
  hostKeyFingerprint: string;
  /** Whether keys were written in this run (a heal, not a device found already current). */
  healed: boolean;
  custom?: boolean;
  /** The run's start (`$$.Execution.StartTime`), for the run-duration metric. */
  startedAt?: string;
}

function recordDuration(deps: WorkflowDeps, startedAt: string | undefined, outcome: string) {
  const started = startedAt ? Date.parse(startedAt) : Number.NaN;
  if (Number.isNaN(started)) return;
  deps.metrics.addMetric(`RunDuration_${outcome}`, "Milliseconds", deps.now().getTime() - started);
}

/** The device holds the current generation (or an adopted custom key). */
export async function markHealthy(deps: WorkflowDeps, input: MarkHealthyInput) {
  const device = await deps.devices.update(input.deviceId, {
    status: input.custom ? "CUSTOM_KEY_BASED" : "KEY_BASED",
    keyGeneration: input.custom ? null : input.generation,
    hostKeyFingerprint: input.hostKeyFingerprint,
    lastFailureCause: null,
    lastCheckedAt: deps.now().toISOString(),
  });
  if (input.healed) deps.metrics.addMetric("ConflictsHealed", "Count", 1);
  recordDuration(deps, input.startedAt, "Succeeded");
  return { status: device.status, keyGeneration: device.keyGeneration };
}

/** The device failed with this cause; its status says what state it is left in. */
export async function markFailed(
  deps: WorkflowDeps,
  input: { deviceId: string; failure: { cause: Cause; operation: Operation }; startedAt?: string },
) {
  recordDuration(deps, input.startedAt, "Failed");
  const status = statusAfterFailure(input.failure.cause, input.failure.operation);
  const device = await deps.devices.update(input.deviceId, {
    status,
    lastFailureCause: input.failure.cause,
    lastCheckedAt: deps.now().toISOString(),
  });
  return { status: device.status };
}
