import { createHash } from "node:crypto";

/** Step Functions' limit on an execution name. */
export const RUN_NAME_MAX_LENGTH = 80;

/** Hex digits of SHA-256 kept in the name: 96 bits, so distinct pairs do not meet in practice. */
const HASH_LENGTH = 24;

/** Room left for the readable device part: the limit, less the hash and its `-`. */
const DEVICE_PART_MAX = RUN_NAME_MAX_LENGTH - HASH_LENGTH - 1;

/**
 * The execution name of the reconnect run for one event about one device.
 *
 * Deterministic, so a duplicate delivery of the same event asks for the same name, and AWS
 * (`ExecutionAlreadyExists`) — or local mode, which applies the same rule — starts no second run.
 * Only `[A-Za-z0-9_-]`, at most 80 characters: Step Functions refuses other characters in names
 * of executions that log to CloudWatch. The readable prefix is the sanitised device id; the
 * suffix is a SHA-256 of the unsanitised pair, so `a.b` and `a:b` (both `a_b` once sanitised)
 * still get different names.
 */
export function runNameFor(deviceId: string, eventId: string): string {
  // JSON of the pair is unambiguous: ("a","bc") and ("ab","c") hash differently.
  const hash = createHash("sha256")
    .update(JSON.stringify([deviceId, eventId]))
    .digest("hex")
    .slice(0, HASH_LENGTH);
  const device = runNamePart(deviceId, DEVICE_PART_MAX);
  return device === "" ? hash : `${device}-${hash}`;
}

/**
 * `text` made fit for a run name: every run of characters Step Functions refuses becomes one
 * `_`, cut to `max` characters, without leading or trailing `_`/`-` (so joining parts with `-`
 * stays readable). Empty when nothing usable is left.
 */
export function runNamePart(text: string, max: number): string {
  return text
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    .slice(0, max)
    .replace(/^[_-]+|[_-]+$/g, "");
}
