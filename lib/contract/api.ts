/**
 * The ops API's answers as zod schemas: one home for the JSON the API sends, the CLI reads and
 * prints with `--json`, and the console shows (docs/architecture.md, Contracts). Every object is
 * strict: a field the contract does not name is an error, so a change to an answer is a change
 * here, seen by all three. Imports only zod and the names beside it; the console imports the
 * types alone (`import type`), so none of this enters its bundle.
 *
 * A field is always present; `null` when unknown.
 *
 * @module
 */
import * as z from "zod";
import {
  API_ERROR_CODES,
  AUTH_STATUSES,
  CAUSE_NAMES,
  IGNORE_REASONS,
  JOB_KINDS,
  KEY_STATUSES,
  OPERATIONS,
  RUN_STATUSES,
  SSH_KEY_ALGORITHMS,
  STEP_STATUSES,
} from "./vocabulary.ts";

const Instant = z.iso.datetime({ offset: true });
const Count = z.int().min(0);

/** A list answer; `nextCursor` is opaque, and null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() });
export type PageView<T> = { items: T[]; nextCursor: string | null };

export const DeviceView = z.strictObject({
  id: z.string(),
  host: z.string(),
  port: z.int(),
  adminUser: z.string(),
  status: z.enum(AUTH_STATUSES),
  /** The platform key generation last proven on a connection. */
  keyGeneration: z.int().nullable(),
  /** The pinned host key: `SHA256:…`. */
  hostKeyFingerprint: z.string().nullable(),
  lastFailureCause: z.enum(CAUSE_NAMES).nullable(),
  instanceId: z.string().nullable(),
  region: z.string().nullable(),
  authorizedKeysPath: z.string().nullable(),
  createdAt: Instant,
  updatedAt: Instant,
  lastCheckedAt: Instant.nullable(),
});
export type DeviceView = z.infer<typeof DeviceView>;

/** `GET /devices/stats`: every auth status with its count, zeros too. */
export const DeviceStatsView = z.strictObject({
  total: Count,
  items: z.array(z.strictObject({ status: z.enum(AUTH_STATUSES), count: Count })),
});
export type DeviceStatsView = z.infer<typeof DeviceStatsView>;

/** A platform key generation: the public half and its fingerprint, never the private key. */
export const KeyView = z.strictObject({
  generation: z.int().min(1),
  algorithm: z.enum(SSH_KEY_ALGORITHMS),
  fingerprint: z.string(),
  status: z.enum(KEY_STATUSES),
  createdAt: Instant,
  /** The authorized_keys line of the public key. */
  publicKey: z.string(),
});
export type KeyView = z.infer<typeof KeyView>;

export const FailureView = z.strictObject({
  id: z.string(),
  deviceId: z.string(),
  operation: z.enum(OPERATIONS),
  cause: z.enum(CAUSE_NAMES),
  message: z.string(),
  /** The handling step an operator should take. */
  hint: z.string(),
  attempt: z.int().min(1),
  keyGeneration: z.int().nullable(),
  runId: z.string().nullable(),
  occurredAt: Instant,
  /** When the record expires. */
  expiresAt: Instant,
  /** The run a retry of this failure started. */
  retriedByRunId: z.string().nullable(),
});
export type FailureView = z.infer<typeof FailureView>;

/** `GET /failures/stats`: counts by cause, most frequent first, each with its handling step. */
export const FailureStatsView = z.strictObject({
  since: Instant.nullable(),
  until: Instant.nullable(),
  deviceId: z.string().nullable(),
  total: Count,
  items: z.array(z.strictObject({ cause: z.enum(CAUSE_NAMES), count: Count, hint: z.string() })),
});
export type FailureStatsView = z.infer<typeof FailureStatsView>;

/** One state of a workflow run, as it ran; the optional fields are there when they apply. */
export const RunStepView = z.strictObject({
  /** The state's name in the ASL file. */
  name: z.string(),
  /** The ASL state type (`Task`, `Choice`, `Map`, …). */
  type: z.string().optional(),
  status: z.enum(STEP_STATUSES),
  startedAt: Instant,
  endedAt: Instant.optional(),
  /** The error name (`Keyheal.AuthRejected`, `States.TaskFailed`) when the step failed. */
  error: z.string().optional(),
  /** The error's detail when the step failed. */
  cause: z.string().optional(),
  /** The state a Catch sent the run to. */
  caughtBy: z.string().optional(),
  /** How many times a Retry ran the step again. */
  retries: Count.optional(),
});
export type RunStepView = z.infer<typeof RunStepView>;

/** A run's fan-out: items its Map states were given, iterations ended, of which not done. */
export const RunProgressView = z.strictObject({ total: Count, done: Count, failed: Count });
export type RunProgressView = z.infer<typeof RunProgressView>;

export const RunView = z.strictObject({
  id: z.string(),
  /** `reconnect`, `resolve` or `rotate`. */
  workflow: z.string(),
  /** Null for a run that is not about one device (a rotation). */
  deviceId: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  startedAt: Instant,
  endedAt: Instant.nullable(),
  error: z.string().nullable(),
  cause: z.string().nullable(),
  steps: z.array(RunStepView),
  /** Steps left out of the middle of `steps` (a rotation's Map over a large fleet). */
  stepsOmitted: Count,
  /** The run's output as the workflow left it. */
  output: z.unknown(),
  /** A rotation's fan-out; null for a run without a Map, or before its Map started. */
  progress: RunProgressView.nullable(),
});
export type RunView = z.infer<typeof RunView>;

/** One device's run in a job. */
export const JobRunView = z.strictObject({
  deviceId: z.string(),
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  error: z.string().nullable(),
  cause: z.string().nullable(),
});
export type JobRunView = z.infer<typeof JobRunView>;

/** `GET /jobs/{id}`: the runs one request started, with counts. */
export const JobView = z.strictObject({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  status: z.enum(RUN_STATUSES),
  total: Count,
  succeeded: Count,
  failed: Count,
  running: Count,
  createdAt: Instant,
  runs: z.array(JobRunView),
});
export type JobView = z.infer<typeof JobView>;

/** What starting one run answers. */
export const RunStarted = z.strictObject({ runId: z.string() });
export type RunStarted = z.infer<typeof RunStarted>;

/** `POST /devices/resolve`: one run per device, tracked as one job. */
export const ResolveStarted = z.strictObject({
  jobId: z.string(),
  runs: z.array(z.strictObject({ deviceId: z.string(), runId: z.string() })),
});
export type ResolveStarted = z.infer<typeof ResolveStarted>;

/** `POST /events`: a run started (or one of the same name already was), or why none. */
export const EventAnswer = z.discriminatedUnion("outcome", [
  z.strictObject({
    outcome: z.enum(["started", "duplicate"]),
    runId: z.string(),
    eventId: z.string(),
    deviceId: z.string(),
  }),
  z.strictObject({
    outcome: z.literal("ignored"),
    runId: z.null(),
    eventId: z.string(),
    reason: z.enum(IGNORE_REASONS),
    message: z.string(),
  }),
]);
export type EventAnswer = z.infer<typeof EventAnswer>;

/** `DELETE /failures/{id}`. */
export const FailureDeleted = z.strictObject({ deleted: z.literal(1) });
/** `DELETE /failures`: how many went, and with `limit`, whether matches remain. */
export const FailuresDeleted = z.strictObject({ deleted: Count, more: z.boolean() });
export type FailuresDeleted = z.infer<typeof FailuresDeleted>;

/** One problem with one field: `path` is `devices[2].port`, or `(body)` for the whole input. */
export const SchemaIssueView = z.strictObject({ path: z.string(), problem: z.string() });

/** Every answer other than 2xx; `field` names what to fix when one input is at fault. */
export const ErrorAnswer = z.strictObject({
  error: z.enum(API_ERROR_CODES),
  message: z.string(),
  field: z.string().optional(),
  issues: z.array(SchemaIssueView).optional(),
});
export type ErrorAnswer = z.infer<typeof ErrorAnswer>;

/**
 * Each route's success: its status and its body, by `METHOD /path template` as in the route
 * table (lib/api/routes.ts). Any other status answers {@link ErrorAnswer}.
 */
export const ANSWERS = {
  "POST /events": { status: 202, body: EventAnswer },
  "GET /devices": { status: 200, body: pageOf(DeviceView) },
  "POST /devices": { status: 200, body: z.strictObject({ items: z.array(DeviceView) }) },
  "GET /devices/stats": { status: 200, body: DeviceStatsView },
  "POST /devices/resolve": { status: 202, body: ResolveStarted },
  "GET /keys": { status: 200, body: pageOf(KeyView) },
  "POST /keys/import": { status: 201, body: KeyView },
  "POST /keys/rotate": { status: 202, body: RunStarted },
  "GET /failures": { status: 200, body: pageOf(FailureView) },
  "DELETE /failures": { status: 200, body: FailuresDeleted },
  "GET /failures/stats": { status: 200, body: FailureStatsView },
  "GET /failures/{id}": { status: 200, body: FailureView },
  "DELETE /failures/{id}": { status: 200, body: FailureDeleted },
  "POST /failures/{id}/retry": { status: 202, body: RunStarted },
  "GET /runs/{id}": { status: 200, body: RunView },
  "GET /jobs/{id}": { status: 200, body: JobView },
} as const satisfies Record<string, { status: number; body: z.ZodType }>;
export type RouteKey = keyof typeof ANSWERS;
/** The body route `R` answers with on success. */
export type AnswerOf<R extends RouteKey> = z.infer<(typeof ANSWERS)[R]["body"]>;
