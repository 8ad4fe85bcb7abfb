import { healDevice } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease } from "./lease.ts";

/**
 * Heals a device in conflict by the safe replacement protocol; returns fingerprints only.
 * `prunedLines` counts the lines of older generations removed, `cert-authority` lines for them
 * included.
 */
export async function replace(
  deps: WorkflowDeps,
  input: { deviceId: string; owner?: string | null },
) {
  try {
    const device = await holdLease(deps, input, "REPLACE");
    const generations = await loadGenerations(deps, "REPLACE");
    const result = await healDevice({
      device: targetOf(device),
      generations,
      timeouts: deps.sshTimeouts,
    });
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
