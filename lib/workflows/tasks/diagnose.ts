import { probeTcp } from "../../cloud/tcp-probe.ts";
import type { WorkflowDeps } from "../deps.ts";
import { readCatchOutput, TASK_ERRORS, type TaskFailure } from "../task-errors.ts";
import { loadDevice } from "./common.ts";

export interface DiagnoseInput {
  deviceId: string;
  error: { Error?: unknown; Cause?: unknown };
}

/**
 * Says why a device is unreachable: for an EC2 instance, its state and whether any
 * security-group rule admits keyheal on port 22; for any device, a TCP probe. Returns a Catch
 * output of the same shape, so the failure step reads one format.
 */
export async function diagnose(deps: WorkflowDeps, input: DiagnoseInput) {
  const original = readCatchOutput(input.error, "DETECT");
  const device = await loadDevice(deps, input.deviceId, "DETECT");
  let failure: TaskFailure = {
    cause: original.cause,
    operation: original.operation,
    message: original.message,
  };

  if (device.instanceId && deps.cloud) {
    const diagnosis = await deps.cloud.diagnoseSsh(device.instanceId, deps.sshSource, device.port);
    if (diagnosis.cause) {
      failure = {
        cause: diagnosis.cause,
        operation: "DETECT",
        message: `${diagnosis.message} ${diagnosis.hint}`,
      };
    }
  }
  if (failure.cause === original.cause) {
    const probe = await probeTcp(device.host, device.port, deps.sshTimeouts.connectMs ?? 5000);
    if (!probe.open && probe.cause !== original.cause) {
      failure = {
        cause: probe.cause,
        operation: "DETECT",
        message: `${original.message} (TCP probe of ${device.host}:${device.port}: ${probe.cause})`,
      };
    }
  }
  deps.logger.info("diagnosed", { deviceId: device.id, cause: failure.cause });
  return { Error: TASK_ERRORS.UNREACHABLE, Cause: JSON.stringify(failure) };
}
