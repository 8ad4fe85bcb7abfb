import { OperationFailedError } from "../../failures/errors.ts";
import { detectKey } from "../../replace/detect-conflict.ts";
import { AuthRejectedError } from "../../ssh/errors.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadDevice, loadGenerations, targetOf } from "./common.ts";

/** A fresh connection offering only the current generation must be accepted. */
export async function verify(deps: WorkflowDeps, input: { deviceId: string }) {
  try {
    const device = await loadDevice(deps, input.deviceId, "VERIFY");
    const [current] = await loadGenerations(deps, "VERIFY");
    if (!current) throw new Error("no current generation");
    try {
      const detection = await detectKey({
        device: targetOf(device),
        generations: [current],
        timeouts: deps.sshTimeouts,
      });
      return { generation: detection.generation, hostKeyFingerprint: detection.hostKeyFingerprint };
    } catch (error) {
      if (!(error instanceof OperationFailedError)) throw error;
      // Healed a moment ago, refused now: sshd will not use the key it was given.
      const code = error.cause instanceof AuthRejectedError ? "SSH_CONFIG_MODIFIED" : error.code;
      throw new OperationFailedError(code, "verify", "VERIFY", { cause: error.cause });
    }
  } catch (error) {
    throw toTaskError(error, "VERIFY");
  }
}

/** After a resolution: an adopted custom key was proven by the login itself. */
export async function verifyResolved(
  deps: WorkflowDeps,
  input: { deviceId: string; custom?: boolean | null; hostKeyFingerprint: string },
) {
  if (input.custom) return { generation: null, hostKeyFingerprint: input.hostKeyFingerprint };
  return verify(deps, input);
}
