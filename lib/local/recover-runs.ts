import type { DeviceStore } from "../devices/types.ts";
import type { RunRecord, RunStore } from "../store/runs.ts";

/** The error an interrupted run ends with. */
export const INTERRUPTED_ERROR = "Keyheal.Interrupted";

export interface RecoveredRuns {
  /** Runs that were RUNNING when the last runtime stopped, now FAILED. */
  interrupted: string[];
  /** Devices whose lease such a run held, released: they need a fresh check. */
  devices: string[];
}

/**
 * At start, before any new run: a run still RUNNING was cut off when the previous runtime died
 * (a kill, a crash, a drain that timed out). Each is ended as FAILED with {@link INTERRUPTED_ERROR}
 * so nobody waits on it, and the device leases it held are released. The replacement protocol
 * converges from any interrupted step, so a fresh reconnect of those devices finishes the work.
 */
export async function recoverInterruptedRuns(
  runs: RunStore,
  devices: Pick<DeviceStore, "list" | "releaseLease" | "update">,
): Promise<RecoveredRuns> {
  const interrupted: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await runs.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    interrupted.push(...page.items.filter((run) => run.status === "RUNNING"));
    cursor = page.nextCursor;
  } while (cursor);
  if (interrupted.length === 0) return { interrupted: [], devices: [] };

  const endedAt = new Date().toISOString();
  for (const run of interrupted) {
    await runs.put({
      ...run,
      status: "FAILED",
      endedAt,
      error: INTERRUPTED_ERROR,
      cause:
        "The local runtime stopped before this run ended. The device is checked again at the next start; retry or send a reconnect event if needed.",
      steps: run.steps.map((step) => (step.endedAt ? step : { ...step, endedAt })),
    });
  }
  const released = new Set<string>();
  // A device's run holds its device's lease whatever the device's status is by now: killed after
  // MarkHealed, the device is KEY_BASED and still leased.
  for (const run of interrupted) {
    if (run.deviceId && (await devices.releaseLease(run.deviceId, run.id))) {
      released.add(run.deviceId);
    }
  }
  // A rotation's lease owner is its run name too, and it is not tied to one device: every device
  // is tried (any status, for the same reason), once per rotation that was cut.
  const owners = new Set(interrupted.filter((run) => !run.deviceId).map((run) => run.id));
  if (owners.size > 0) {
    cursor = undefined;
    do {
      const page = await devices.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const device of page.items) {
        for (const owner of owners) {
          if (await devices.releaseLease(device.id, owner)) {
            released.add(device.id);
            break;
          }
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  for (const id of released) await devices.update(id, { status: "UNKNOWN" });
  return { interrupted: interrupted.map((run) => run.id), devices: [...released] };
}
