import { type Detection, detectKey } from "../../replace/detect-conflict.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease } from "./lease.ts";

export interface DetectInput {
  deviceId: string;
  /** "ec2" when an instance just entered running: an unready sshd is waited for. */
  trigger?: string;
  /** The run holding the lease; Detect's record of the proven generation is fenced by it. */
  owner?: string | null;
}

/**
 * One connection, generations newest first: which key does the device hold? What the device
 * accepted is recorded as proven, since retirement keeps every generation a device may hold.
 */
export async function detect(deps: WorkflowDeps, input: DetectInput): Promise<Detection> {
  try {
    const device = await holdLease(deps, input, "DETECT");
    const generations = await loadGenerations(deps, "DETECT");
    const detection = await detectKey({
      device: targetOf(device),
      generations,
      timeouts: deps.sshTimeouts,
      pruneOlder: true,
    });
    await deps.devices.update(
      device.id,
      {
        keyGeneration: detection.generation,
        keyProvenAt: deps.now().toISOString(),
        ...(detection.pinnedOnFirstContact
          ? { hostKeyFingerprint: detection.hostKeyFingerprint }
          : {}),
      },
      input.owner ? { leaseOwner: input.owner } : undefined,
    );
    if (detection.outcome === "KEY_CONFLICT")
      deps.metrics.addMetric("ConflictsDetected", "Count", 1);
    deps.logger.info("detected", { ...detection });
    return detection;
  } catch (error) {
    throw toTaskError(error, "DETECT", input.trigger === "ec2");
  }
}
