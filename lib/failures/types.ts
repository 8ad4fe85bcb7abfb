import type { Page } from "../paging/page.ts";
import type { Cause } from "./causes.ts";
import type { Operation } from "./errors.ts";

/** One failed operation on one device (docs/architecture.md, Domain). Fingerprints only, never key material. */
export interface FailureRecord {
  /** Time-sortable (ULID). */
  id: string;
  deviceId: string;
  operation: Operation;
  cause: Cause;
  message: string;
  /** The handling step an operator should take. */
  hint: string;
  attempt: number;
  keyGeneration: number | null;
  runId: string | null;
  occurredAt: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
  /** Set when a retry was started from this record. */
  retriedByRunId?: string | undefined;
}

export type NewFailure = Omit<FailureRecord, "id" | "hint" | "expiresAt" | "occurredAt"> & {
  occurredAt?: string;
};

export interface FailureQuery {
  deviceId?: string;
  cause?: Cause;
  /** Filtered after the index query (every operation shares the indexes). */
  operation?: Operation;
  /** ISO timestamps, inclusive. */
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface FailureStore {
  record(failure: NewFailure): Promise<FailureRecord>;
  get(id: string): Promise<FailureRecord | undefined>;
  /** Served by an index for every filter combination; expired records are left out. */
  list(query: FailureQuery): Promise<Page<FailureRecord>>;
  delete(id: string): Promise<boolean>;
  /** Deletes every record matching the filter (all when empty); returns the number deleted. */
  deleteMany(query: Omit<FailureQuery, "limit" | "cursor">): Promise<number>;
  /**
   * Deletes at most `limit` records matching the filter, newest first, so a client can show
   * progress over a large delete; `more` tells whether matches remain.
   */
  deleteSome(
    query: Omit<FailureQuery, "limit" | "cursor">,
    limit: number,
  ): Promise<{ deleted: number; more: boolean }>;
  /** Live records per cause, over a time range and optionally one device. */
  countByCause(
    query: Pick<FailureQuery, "since" | "until" | "deviceId">,
  ): Promise<Partial<Record<Cause, number>>>;
  markRetried(id: string, runId: string): Promise<void>;
}
