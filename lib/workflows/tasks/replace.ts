import type { Operation } from "../../failures/errors.ts";
import { healDevice } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease } from "./lease.ts";

/**
 * The device the run holds the lease of, healed by the safe replacement protocol with every
 * platform generation: the work of the rotation's Install (Replace) and the reconnect's Detect.
 */
export async function healUnderLease(
  deps: WorkflowDeps,
  input: { deviceId: string; owner?: string | null; generation?: number | null },
  operation: Operation,
) {
  const device = await holdLease(deps, input, operation);
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
  input: { deviceId: string; owner?: string | null; generation?: number | null },
) {
  try {
    const { generations, result } = await healUnderLease(deps, input, "REPLACE");
    deps.logger.info("replaced", { ...result, fingerprint: generations[0]?.key.fingerprint });
    return {
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
