import type { Device } from "../../devices/types.ts";
import type { Operation } from "../../failures/errors.ts";
import { LeaseLostError } from "../../store/errors.ts";
import type { WorkflowDeps } from "../deps.ts";
import { TASK_ERRORS, TaskError, toTaskError } from "../task-errors.ts";
import { loadDevice } from "./common.ts";

export interface LeaseInput {
  deviceId: string;
  owner: string;
}

/**
 * How many more checks a reconnect run makes for events that lost the lease to it: one per
 * release at most, and no more than this many per run, so a device that keeps failing while
 * events keep arriving cannot keep a run alive for ever.
 */
export const MAX_RECHECKS = 3;

/** Attempts to either take the lease or leave a recheck request with its holder. */
const ACQUIRE_ATTEMPTS = 3;

/**
 * Takes the device's lease. A second run for the same device (a duplicate or concurrent event)
 * gets `acquired: false` and ends quietly, but first leaves a recheck request on the device: the
 * holder checks the device once more when it releases, so an event that arrived while a run that
 * then failed held the device is not lost. The status before this run is kept on the device
 * (`statusBeforeRun`), for a failure that must not relabel it.
 */
export async function acquireLease(
  deps: WorkflowDeps,
  input: LeaseInput,
): Promise<{ acquired: boolean; recheckRequested?: boolean }> {
  const { device: _device, ...result } = await takeDeviceLease(deps, input);
  return result;
}

/**
 * {@link acquireLease}, answering the device as the write that took the lease left it, for a
 * step that takes the lease and works on the device in one (the rotation's Install).
 */
export async function takeDeviceLease(
  deps: WorkflowDeps,
  input: LeaseInput,
): Promise<{ acquired: boolean; recheckRequested?: boolean; device?: Device }> {
  try {
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      // The lease and the RESOLVING status in one conditional write; a device left RESOLVING by
      // a run that never ended keeps the status from before it (lib/store/device-lease.ts).
      const device = await deps.devices.takeLease(input.deviceId, input.owner, deps.leaseTtlMs);
      if (device) {
        deps.logger.info("lease", { deviceId: input.deviceId, acquired: true });
        return { acquired: true, device };
      }
      // Refused only while another run holds the lease; if it was released meanwhile, try again.
      if (await deps.devices.requestRecheck(input.deviceId, input.owner)) {
        deps.logger.info("lease", { deviceId: input.deviceId, acquired: false, recheck: true });
        return { acquired: false, recheckRequested: true };
      }
      // Neither: the lease was released meanwhile, or the device is not registered (an error).
      await loadDevice(deps, input.deviceId, "DETECT");
    }
    deps.logger.info("lease", { deviceId: input.deviceId, acquired: false });
    return { acquired: false };
  } catch (error) {
    throw toTaskError(error, "DETECT");
  }
}

/**
 * Extends the run's lease before a step that works on the device, so a run that takes longer
 * than one lease is not overtaken while it works, and refuses to work once another run holds it.
 * Each step is bounded by its function timeout, which the lease TTL exceeds. Answers the device
 * as the same write left it (one store call for both); a step run without a lease reads it.
 */
export async function holdLease(
  deps: WorkflowDeps,
  input: { deviceId: string; owner?: string | null | undefined },
  operation: Operation,
): Promise<Device> {
  if (!input.owner) return loadDevice(deps, input.deviceId, operation);
  const device = await deps.devices.holdLease(input.deviceId, input.owner, deps.leaseTtlMs);
  if (device) return device;
  throw leaseLost(deps, new LeaseLostError(input.deviceId, input.owner, undefined), operation);
}

/** The Task error for a run that lost its lease: recorded as a failure, never applied. */
export function leaseLost(deps: WorkflowDeps, error: LeaseLostError, operation: Operation) {
  deps.metrics.addMetric("LeaseLost", "Count", 1);
  deps.logger.warn("lease lost", {
    deviceId: error.deviceId,
    owner: error.owner,
    holder: error.holder,
  });
  return new TaskError(TASK_ERRORS.FAILED, {
    cause: "INTERNAL",
    operation,
    message: error.message,
  });
}

/**
 * Gives the lease back. A reconnect run (`recheck: true`) takes any recheck request left by runs
 * that lost the lease to it, while its `attempt` allows one more; the state machine then checks
 * the device again after a pause.
 */
export async function releaseLease(
  deps: WorkflowDeps,
  input: LeaseInput & { recheck?: boolean | null; attempt?: number | null },
): Promise<{ released: boolean; recheck: boolean }> {
  if (input.recheck && (input.attempt ?? 1) <= MAX_RECHECKS) {
    const result = await deps.devices.releaseLeaseTakingRecheck(input.deviceId, input.owner);
    if (result.recheck) deps.logger.info("recheck", { deviceId: input.deviceId });
    return result;
  }
  const released = await deps.devices.releaseLease(input.deviceId, input.owner);
  return { released, recheck: false };
}
