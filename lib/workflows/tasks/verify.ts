import { OperationFailedError } from "../../failures/errors.ts";
import { detectKey } from "../../replace/detect-conflict.ts";
import { AuthRejectedError } from "../../ssh/errors.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease } from "./lease.ts";

export interface VerifyInput {
  deviceId: string;
  /**
   * The generation the heal installed. A rotation may have made a newer one since; checking
   * that one would fail a good heal and leave the device's record stale.
   */
  generation?: number | null;
  owner?: string | null;
}

/** A fresh connection offering only the generation the heal installed must be accepted. */
export async function verify(deps: WorkflowDeps, input: VerifyInput) {
  try {
    const device = await holdLease(deps, input, "VERIFY");
    const generations = await loadGenerations(deps, "VERIFY");
    const installed =
      input.generation === undefined || input.generation === null
        ? generations[0]
        : generations.find((g) => g.generation === input.generation);
    if (!installed) {
      throw new OperationFailedError("INTERNAL", "verify", "VERIFY", {
        cause: new Error(
          `Generation ${input.generation} was installed but is no longer usable (retired?); run a reconnect for the device to move it to the current key.`,
        ),
      });
    }
    try {
      const detection = await detectKey({
        device: targetOf(device),
        generations: [installed],
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
  input: VerifyInput & { custom?: boolean | null; hostKeyFingerprint: string },
) {
  if (input.custom) return { generation: null, hostKeyFingerprint: input.hostKeyFingerprint };
  return verify(deps, input);
}
