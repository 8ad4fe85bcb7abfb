import type { Device } from "../../devices/types.ts";
import type { Operation } from "../../failures/errors.ts";
import { healDevice } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease, takeDeviceLease } from "./lease.ts";

/**
 * The device the run holds the lease of, healed by the safe replacement protocol with every
 * platform generation: the work of the rotation's Install (Replace) and the reconnect's Detect.
 */
export async function healUnderLease(
  deps: WorkflowDeps,
  input: { deviceId: string; owner?: string | null; generation?: number | null },
  operation: Operation,
  leased?: Device,
) {
  const device = leased ?? (await holdLease(deps, input, operation));
  // A rotation names its generation: the list loaded for the device before may serve again.
  const generations = await loadGenerations(deps, operation, input.generation);
  const result = await healDevice({
    device: targetOf(device),
    generations,
    timeouts: deps.sshTimeouts,
  });
  return { device, generations, result };
}

/**
 * Heals a device in conflict by the safe replacement protocol; returns fingerprints only.
 * `prunedLines` counts the lines of older generations removed, `cert-authority` lines for them
 * included.
 */
export async function replace(
  deps: WorkflowDeps,
  input: {
    deviceId: string;
    owner?: string | null;
    generation?: number | null;
    /** Take the lease in this step (as AcquireLease does) rather than hold one already taken. */
    acquire?: boolean | null;
  },
) {
  try {
    let leased: Device | undefined;
    if (input.acquire && input.owner) {
      const lease = await takeDeviceLease(deps, { deviceId: input.deviceId, owner: input.owner });
      if (!lease.acquired || !lease.device) {
        return { acquired: false, recheckRequested: lease.recheckRequested === true };
      }
      leased = lease.device;
    }
    const { generations, result } = await healUnderLease(deps, input, "REPLACE", leased);
    deps.logger.info("replaced", { ...result, fingerprint: generations[0]?.key.fingerprint });
    return {
      acquired: true,
      generation: result.generation,
      heldGeneration: result.heldGeneration,
      changed: result.changed,
      prunedLines: result.prunedLines,
      handshakes: result.handshakes,
      hostKeyFingerprint: result.hostKeyFingerprint,
      steps: result.steps,
    };
  } catch (error) {
    throw toTaskError(error, "REPLACE");
  }
}
