/**
 * Workflow run history: what local mode shows for `keyheal runs show RUN_ID` and `GET /runs/{id}`
 * (in AWS, Step Functions keeps the execution history).
 *
 * @module
 */

import type { RunStatus, StepStatus } from "../contract/vocabulary.ts";
import type { Page } from "../paging/page.ts";

export {
  RUN_STATUSES,
  type RunStatus,
  STEP_STATUSES,
  type StepStatus,
} from "../contract/vocabulary.ts";

/** One state of the workflow, as it ran. */
export interface RunStep {
  /** State name in the ASL file. */
  name: string;
  /** ASL state type (`Task`, `Choice`, `Map`, …). */
  type?: string | undefined;
  status: StepStatus;
  startedAt: string;
  endedAt?: string | undefined;
  /** Error name (e.g. `States.TaskFailed`, `KeyConflict`) when the step failed. */
  error?: string | undefined;
  /** Error detail when the step failed. */
  cause?: string | undefined;
  /** The state a Catch sent the run to. */
  caughtBy?: string | undefined;
  /** How many times a Retry ran the step again. */
  retries?: number | undefined;
}

/**
 * Fan-out progress of a run: how many items its Map states were given, how many iterations have
 * ended, and how many of those ended without doing their work.
 */
export interface RunProgress {
  /** Items the run's Map states were given (devices of a rotation). */
  total: number;
  /** Iterations that have ended. */
  done: number;
  /** Of those, how many ended without installing (recorded as failures, healed later). */
  failed: number;
}

export interface RunRecord {
  /** The execution name (same as Step Functions would get). */
  id: string;
  /** Workflow name: `reconnect`, `resolve`, `rotate`. */
  workflow: string;
  /** Null for runs that are not about one device (a rotation). */
  deviceId: string | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  /** Stored as JSON: never put secrets here (workflows carry secret references only). */
  input?: unknown;
  output?: unknown;
  error?: string | undefined;
  cause?: string | undefined;
  steps: RunStep[];
  /**
   * Steps left out of the middle of `steps` to keep the record under DynamoDB's 400 KB item
   * limit (a rotation's Map over a large fleet).
   */
  stepsOmitted?: number | undefined;
  /** Fan-out progress (a rotation's Map over the fleet); absent for runs without a Map. */
  progress?: RunProgress | undefined;
  /** TTL, epoch seconds; the store sets it from `startedAt` when absent. */
  expiresAt?: number | undefined;
}

/** Reads one run by the id starting it answered: the run store locally, Step Functions on AWS. */
export type RunReader = Pick<RunStore, "get">;

export interface RunStore {
  /** Stores a new run; false (and nothing written) when a run with this id exists. */
  create(run: RunRecord): Promise<boolean>;
  /**
   * Replaces the run: progress while it runs, then its end. A RUNNING record never overwrites a
   * run that has ended (a late progress write after the final one): false then.
   */
  put(run: RunRecord): Promise<boolean>;
  /** Undefined when there is no such run or it has expired. */
  get(id: string): Promise<RunRecord | undefined>;
  /** A device's runs newest first (by index) when `deviceId` is given; otherwise every run. */
  list(query?: { deviceId?: string; limit?: number; cursor?: string }): Promise<Page<RunRecord>>;
}
