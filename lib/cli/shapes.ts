/**
 * The JSON shapes of docs/architecture.md, Contracts as the CLI receives and prints them. `--json` prints the fixed
 * fields first, in this order, with `null` for a field the server left out, then any further
 * fields the server sent ("more fields welcome").
 *
 * @module
 */

export interface DeviceView {
  id: string;
  host: string;
  port: number;
  adminUser: string;
  status: string;
  keyGeneration: number | null;
  hostKeyFingerprint: string | null;
  lastFailureCause: string | null;
}

export interface KeyView {
  generation: number;
  algorithm: string;
  fingerprint: string;
  status: string;
  createdAt: string;
}

export interface FailureView {
  id: string;
  deviceId: string;
  operation: string;
  cause: string;
  message: string;
  hint: string;
  attempt: number;
  keyGeneration: number | null;
  runId: string | null;
  occurredAt: string;
}

export interface RunStepView {
  name: string;
  type?: string;
  status: string;
  startedAt?: string;
  endedAt?: string | null;
  error?: string;
  cause?: string;
  caughtBy?: string;
  retries?: number;
}

export type RunStatus = "RUNNING" | "SUCCEEDED" | "FAILED";

/** A rotate run's fan-out: devices in it, devices whose iteration ended, and how many failed. */
export interface RunProgressView {
  total: number;
  done: number;
  failed: number;
}

export interface RunView {
  id: string;
  workflow: string;
  deviceId: string | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  steps: RunStepView[];
  /** Rotate runs only, once the fleet was listed; null otherwise (or from an older API). */
  progress?: RunProgressView | null;
}

/** One device's run in a job. */
export interface JobRunView {
  deviceId: string;
  runId: string;
  status: RunStatus;
  error: string | null;
  cause: string | null;
}

/** `GET /jobs/{id}`: the runs one request started (a resolve of many devices), with counts. */
export interface JobView {
  id: string;
  kind: string;
  status: RunStatus;
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  createdAt: string;
  runs: JobRunView[];
}

/** `GET /failures/stats`: counts by cause, most frequent first. */
export interface FailureStatsView {
  since: string | null;
  until: string | null;
  total: number;
  items: { cause: string; count: number; hint: string }[];
}

/** A list answer; `nextCursor` is null on the last page. */
export interface PageView<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEVICE_FIELDS = [
  "id",
  "host",
  "port",
  "adminUser",
  "status",
  "keyGeneration",
  "hostKeyFingerprint",
  "lastFailureCause",
] as const satisfies readonly (keyof DeviceView)[];

export const KEY_FIELDS = [
  "generation",
  "algorithm",
  "fingerprint",
  "status",
  "createdAt",
] as const satisfies readonly (keyof KeyView)[];

export const FAILURE_FIELDS = [
  "id",
  "deviceId",
  "operation",
  "cause",
  "message",
  "hint",
  "attempt",
  "keyGeneration",
  "runId",
  "occurredAt",
] as const satisfies readonly (keyof FailureView)[];

export const RUN_FIELDS = [
  "id",
  "workflow",
  "deviceId",
  "status",
  "startedAt",
  "endedAt",
  "steps",
] as const satisfies readonly (keyof RunView)[];

export const JOB_FIELDS = [
  "id",
  "kind",
  "status",
  "total",
  "succeeded",
  "failed",
  "running",
  "createdAt",
  "runs",
] as const satisfies readonly (keyof JobView)[];

/** The fixed fields first, in order (null when absent), then the server's further fields. */
export function withFixedFields<T>(fields: readonly string[], value: unknown): T {
  const source = (value !== null && typeof value === "object" ? value : {}) as Record<
    string,
    unknown
  >;
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field] = source[field] ?? null;
  for (const [field, fieldValue] of Object.entries(source)) {
    if (!Object.hasOwn(out, field)) out[field] = fieldValue;
  }
  return out as T;
}

export const device = (value: unknown): DeviceView => withFixedFields(DEVICE_FIELDS, value);
export const key = (value: unknown): KeyView => withFixedFields(KEY_FIELDS, value);
export const failure = (value: unknown): FailureView => withFixedFields(FAILURE_FIELDS, value);
export function run(value: unknown): RunView {
  const view = withFixedFields<RunView>(RUN_FIELDS, value);
  if (!Array.isArray(view.steps)) view.steps = [];
  return view;
}
export function job(value: unknown): JobView {
  const view = withFixedFields<JobView>(JOB_FIELDS, value);
  if (!Array.isArray(view.runs)) view.runs = [];
  return view;
}

/** `{ total, done, failed }` when every count is a number, else null. */
export function runProgress(view: RunView): RunProgressView | null {
  const progress = view.progress as unknown;
  if (progress === null || typeof progress !== "object") return null;
  const { total, done, failed } = progress as Record<string, unknown>;
  return typeof total === "number" && typeof done === "number" && typeof failed === "number"
    ? { total, done, failed }
    : null;
}
