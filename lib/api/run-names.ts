import { ulid } from "ulid";
import { RUN_NAME_MAX_LENGTH, runNamePart } from "../events/run-name.ts";

/** Room left for the device part: the limit, less `resolve-`, the ULID and a `-`. */
const DEVICE_PART_MAX = RUN_NAME_MAX_LENGTH - "resolve-".length - 26 - 1;

/**
 * A fresh run name for an operator's action: `rotate-<ulid>`, `resolve-<device>-<ulid>`. Only
 * `[A-Za-z0-9_-]`, at most 80 characters, time-sortable, as Step Functions requires of names.
 */
export function operatorRunName(workflow: "rotate" | "resolve", deviceId?: string): string {
  const id = ulid();
  if (deviceId === undefined) return `${workflow}-${id}`;
  const device = runNamePart(deviceId, DEVICE_PART_MAX);
  return device === "" ? `${workflow}-${id}` : `${workflow}-${device}-${id}`;
}
