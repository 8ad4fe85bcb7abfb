import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadDevice } from "./common.ts";

export interface LeaseInput {
  deviceId: string;
  owner: string;
}

/**
 * Takes the device's lease. A second run for the same device (a duplicate or concurrent event)
 * gets `acquired: false` and ends quietly.
 */
export async function acquireLease(
  deps: WorkflowDeps,
  input: LeaseInput,
): Promise<{ acquired: boolean }> {
  try {
    await loadDevice(deps, input.deviceId, "DETECT");
    const acquired = await deps.devices.acquireLease(input.deviceId, input.owner, deps.leaseTtlMs);
    if (acquired) await deps.devices.update(input.deviceId, { status: "RESOLVING" });
    deps.logger.info("lease", { deviceId: input.deviceId, acquired });
    return { acquired };
  } catch (error) {
    throw toTaskError(error, "DETECT");
  }
}

export async function releaseLease(
  deps: WorkflowDeps,
  input: LeaseInput,
): Promise<{ released: boolean }> {
  const released = await deps.devices.releaseLease(input.deviceId, input.owner);
  return { released };
}
