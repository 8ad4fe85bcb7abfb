import { type Detection, detectKey } from "../../replace/detect-conflict.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadDevice, loadGenerations, targetOf } from "./common.ts";

export interface DetectInput {
  deviceId: string;
  /** "ec2" when an instance just entered running: an unready sshd is waited for. */
  trigger?: string;
}

/** One connection, generations newest first: which key does the device hold? */
export async function detect(deps: WorkflowDeps, input: DetectInput): Promise<Detection> {
  try {
    const device = await loadDevice(deps, input.deviceId, "DETECT");
    const generations = await loadGenerations(deps, "DETECT");
    const detection = await detectKey({
      device: targetOf(device),
      generations,
      timeouts: deps.sshTimeouts,
    });
    if (detection.pinnedOnFirstContact) {
      await deps.devices.update(device.id, { hostKeyFingerprint: detection.hostKeyFingerprint });
    }
    if (detection.outcome === "KEY_CONFLICT")
      deps.metrics.addMetric("ConflictsDetected", "Count", 1);
    deps.logger.info("detected", { ...detection });
    return detection;
  } catch (error) {
    throw toTaskError(error, "DETECT", input.trigger === "ec2");
  }
}
