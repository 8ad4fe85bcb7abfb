import type { AuthStatus, Device } from "../../devices/types.ts";
import type { Cause } from "../../failures/causes.ts";
import { type Operation, OperationFailedError } from "../../failures/errors.ts";
import type { DeviceTarget } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { TASK_ERRORS, TaskError } from "../task-errors.ts";

/** Loads a registered device or fails the task with a clear cause. */
export async function loadDevice(
  deps: WorkflowDeps,
  deviceId: string,
  operation: Operation,
): Promise<Device> {
  const device = await deps.devices.get(deviceId);
  if (!device) {
    throw new TaskError(TASK_ERRORS.FAILED, {
      cause: "INTERNAL",
      operation,
      message: `Device ${deviceId} is not registered: import it (keyheal devices import) before sending events for it.`,
    });
  }
  return device;
}

export function targetOf(device: Device): DeviceTarget {
  return {
    id: device.id,
    host: device.host,
    port: device.port,
    adminUser: device.adminUser,
    hostKeyFingerprint: device.hostKeyFingerprint ?? undefined,
    authorizedKeysPath: device.authorizedKeysPath,
  };
}

/** Platform generations with private keys, newest first; a fleet without a key cannot heal. */
export async function loadGenerations(
  deps: WorkflowDeps,
  operation: Operation,
  current?: number | null,
) {
  const generations = await deps.keys.loadGenerations(current == null ? {} : { current });
  if (generations.length === 0) {
    throw new OperationFailedError("INVALID_PRIVATE_KEY", "connect", operation, {
      cause: new Error(
        "No platform key: import one (keyheal keys import) or rotate (keyheal keys rotate).",
      ),
    });
  }
  return generations;
}

/**
 * The auth status a device is left in after a failure with this cause. A failed resolve (a
 * wrong password, a refused custom key) says nothing new about the device's keys: it keeps the
 * status it had before the run (`previous`), so it stays in the Key conflict view.
 */
export function statusAfterFailure(
  cause: Cause,
  operation: Operation,
  previous?: AuthStatus,
): AuthStatus {
  switch (cause) {
    case "HOST_KEY_MISMATCH":
      return "HOST_KEY_CONFLICT" as const;
    case "CONNECTION_REFUSED":
    case "CONNECTION_TIMEOUT":
    case "NETWORK_UNREACHABLE":
    case "CONNECTION_LOST":
    case "TIMEOUT":
    case "INSTANCE_NOT_RUNNING":
    case "SECURITY_GROUP_BLOCKS_SSH":
      return "UNREACHABLE" as const;
    case "INTERNAL":
      return "UNKNOWN" as const;
    default:
      if (operation === "RESOLVE" && previous !== undefined && previous !== "RESOLVING") {
        return previous;
      }
      // Reachable, but the current key is not in place: a conflict an operator can resolve.
      return "KEY_CONFLICT" as const;
  }
}
