import { CAUSE_NAMES, type Cause, hintFor } from "../failures/causes.ts";
import { type Operation, OperationFailedError } from "../failures/errors.ts";
import { classify } from "../replace/classify.ts";
// Type-only: a function's bundle must not pull in every task (and their SSH client).

/**
 * Error names Task handlers throw. The state machines Retry and Catch on these names, so they
 * are part of the ASL contract: Step Functions sees them as the Lambda `errorType`, the local
 * interpreter as `error.name`.
 */
export const TASK_ERRORS = {
  /** Worth retrying soon: a dropped connection, a raced write. */
  TRANSIENT: "Keyheal.Transient",
  /** A freshly started instance whose sshd does not answer yet: retried with backoff. */
  SSHD_NOT_READY: "Keyheal.SshdNotReady",
  /** Not reachable: diagnosed (instance state, security group, TCP probe) before recording. */
  UNREACHABLE: "Keyheal.Unreachable",
  /** Anything else: straight to the failure record. */
  FAILED: "Keyheal.Failed",
} as const;
export type TaskErrorName = (typeof TASK_ERRORS)[keyof typeof TASK_ERRORS];

/** What a failed Task reports, carried as the error message so both runtimes keep it. */
export interface TaskFailure {
  cause: Cause;
  /**
   * Absent when the task serves every workflow (a lease, a status mark): the failure is then
   * recorded with the workflow's own operation (`readCatchOutput`'s fallback).
   */
  operation?: Operation | undefined;
  message: string;
  stage?: string | undefined;
}

const TRANSIENT = new Set<Cause>(["CONNECTION_LOST", "CONCURRENT_MODIFICATION"]);
const UNREACHABLE = new Set<Cause>([
  "CONNECTION_REFUSED",
  "CONNECTION_TIMEOUT",
  "NETWORK_UNREACHABLE",
  "TIMEOUT",
]);

/**
 * A Task error: its name drives Retry/Catch, its message is the JSON {@link TaskFailure}. The
 * error it stands for is kept as `Error.cause`, for logs; only the message crosses to the state
 * machine.
 */
export class TaskError extends Error {
  readonly failure: TaskFailure;
  constructor(name: TaskErrorName, failure: TaskFailure, options?: ErrorOptions) {
    super(JSON.stringify(failure), options);
    this.name = name;
    this.failure = failure;
  }
}

/**
 * Turns a domain failure into the Task error the workflow routes on. `fallback` is the task's
 * operation, for errors that carry none (`undefined` for a task every workflow shares).
 * `freshStart` marks a run started by an instance that just entered `running`, whose sshd may
 * still be booting.
 */
export function toTaskError(
  error: unknown,
  fallback: Operation | undefined,
  freshStart = false,
): TaskError {
  if (error instanceof TaskError) return error;
  if (!(error instanceof OperationFailedError)) {
    // Raised before any device conversation (a key that will not import, for example).
    const message = error instanceof Error ? error.message : String(error);
    return new TaskError(
      isTransientServiceError(error) ? TASK_ERRORS.TRANSIENT : TASK_ERRORS.FAILED,
      { cause: classify(error, "connect"), operation: fallback, message },
      { cause: error },
    );
  }
  const failure: TaskFailure = {
    cause: error.code,
    operation: error.operation,
    stage: error.stage,
    message: error.cause instanceof Error ? error.cause.message : error.message,
  };
  const options = { cause: error };
  if (TRANSIENT.has(error.code)) return new TaskError(TASK_ERRORS.TRANSIENT, failure, options);
  if (UNREACHABLE.has(error.code)) {
    return new TaskError(
      freshStart ? TASK_ERRORS.SSHD_NOT_READY : TASK_ERRORS.UNREACHABLE,
      failure,
      options,
    );
  }
  return new TaskError(TASK_ERRORS.FAILED, failure, options);
}

const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOENT",
]);
const TRANSIENT_SERVICE_ERRORS = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
]);

/**
 * An error of a store or AWS call (never of a device conversation, which arrives as an
 * OperationFailedError) that the workflow's Retry should absorb: the store down for a moment,
 * throttling, a service error. SSH errors never reach this check.
 */
export function isTransientServiceError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && TRANSIENT_NETWORK_CODES.has(code)) return true;
  if ((error as { $retryable?: unknown }).$retryable) return true;
  return TRANSIENT_SERVICE_ERRORS.has(error.name);
}

function isCause(value: unknown): value is Cause {
  return typeof value === "string" && (CAUSE_NAMES as readonly string[]).includes(value);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads a Catch output (`{ Error, Cause }`) the same way from both runtimes: Step Functions
 * wraps a Lambda error as a JSON string `{"errorType","errorMessage","trace"}`, the local
 * interpreter passes the error message as plain text. Errors keyheal did not raise
 * (States.Timeout, a crashed function) become INTERNAL or TIMEOUT with their own text.
 */
export function readCatchOutput(
  output: { Error?: unknown; Cause?: unknown } | undefined,
  fallback: Operation,
): TaskFailure & { operation: Operation; hint: string } {
  const errorName = typeof output?.Error === "string" ? output.Error : "Unknown";
  const rawCause = typeof output?.Cause === "string" ? output.Cause : "";
  let payload = tryJson(rawCause);
  if (payload && typeof payload === "object" && "errorMessage" in payload) {
    const inner = (payload as { errorMessage: unknown }).errorMessage;
    payload = typeof inner === "string" ? (tryJson(inner) ?? inner) : inner;
  }
  if (payload && typeof payload === "object" && isCause((payload as TaskFailure).cause)) {
    const p = payload as TaskFailure;
    const operation = typeof p.operation === "string" ? p.operation : fallback;
    return {
      cause: p.cause,
      operation,
      stage: p.stage,
      message: String(p.message ?? ""),
      hint: hintFor(p.cause, operation),
    };
  }
  const cause: Cause = errorName === "States.Timeout" ? "TIMEOUT" : "INTERNAL";
  const text = typeof payload === "string" ? payload : rawCause;
  return {
    cause,
    operation: fallback,
    message: `${errorName}${text ? `: ${text}` : ""}`.slice(0, 1000),
    hint: hintFor(cause),
  };
}
