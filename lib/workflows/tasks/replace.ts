import { healDevice } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadDevice, loadGenerations, targetOf } from "./common.ts";

/** Heals a device in conflict by the safe replacement protocol; returns fingerprints only. */
export async function replace(deps: WorkflowDeps, input: { deviceId: string }) {
  try {
    const device = await loadDevice(deps, input.deviceId, "REPLACE");
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
      handshakes: result.handshakes,
      hostKeyFingerprint: result.hostKeyFingerprint,
      steps: result.steps,
    };
  } catch (error) {
    throw toTaskError(error, "REPLACE");
  }
}
