/**
 * Jobs: an operator's action over many devices (a resolve of a whole site), tracked as one
 * thing. A job holds the runs it started; its progress is read from those runs.
 *
 * @module
 */

import type { JobKind } from "../contract/vocabulary.ts";

export { JOB_KINDS, type JobKind } from "../contract/vocabulary.ts";

/** One device's run within a job; its outcome once the run has ended. */
export interface JobRun {
  deviceId: string;
  runId: string;
  /** Set once the run has ended: an ended run never changes, so it is not read again. */
  outcome?: { status: "SUCCEEDED" | "FAILED"; error: string | null; cause: string | null };
}

export interface JobRecord {
  /** `job-<ulid>`: time-sortable. */
  id: string;
  kind: JobKind;
  createdAt: string;
  runs: JobRun[];
  /** TTL, epoch seconds; the store sets it from `createdAt` when absent. */
  expiresAt?: number | undefined;
}

export interface JobStore {
  /** Stores a new job. */
  create(job: JobRecord): Promise<void>;
  /** Undefined when there is no such job or it has expired. */
  get(id: string): Promise<JobRecord | undefined>;
  /** Keeps the outcomes of the job's runs that have ended (`runs` in the job's order). */
  settle(id: string, runs: readonly JobRun[]): Promise<void>;
}
