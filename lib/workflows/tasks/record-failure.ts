import type { Operation } from "../../failures/errors.ts";
import type { FailureRecord } from "../../failures/types.ts";
import type { WorkflowDeps } from "../deps.ts";
import { readCatchOutput } from "../task-errors.ts";

export interface RecordFailureInput {
  deviceId: string;
  /** The Catch output: `{ Error, Cause }` from Step Functions or the local interpreter. */
  error: { Error?: unknown; Cause?: unknown };
  runId: string;
  workflow: "reconnect" | "resolve" | "rotate";
  attempt?: number;
}

const FALLBACK: Record<RecordFailureInput["workflow"], Operation> = {
  reconnect: "DETECT",
  resolve: "RESOLVE",
  rotate: "ROTATE",
};

/** Writes one failure record with its cause and handling step; returns it (no secrets in it). */
export async function recordFailure(
  deps: WorkflowDeps,
  input: RecordFailureInput,
): Promise<FailureRecord> {
  const read = readCatchOutput(input.error, FALLBACK[input.workflow]);
  // In a rotation every device failure is a failed ROTATE, whatever step of the heal it hit.
  const failure = input.workflow === "rotate" ? { ...read, operation: "ROTATE" as const } : read;
  const current = await deps.keys.current().catch(() => undefined);
  const record = await deps.failures.record({
    deviceId: input.deviceId,
    operation: failure.operation,
    cause: failure.cause,
    message: failure.message,
    attempt: input.attempt ?? 1,
    keyGeneration: current?.generation ?? null,
    runId: input.runId,
  });
  deps.metrics.addMetric(`Failed_${failure.cause}`, "Count", 1);
  deps.metrics.addMetric("Failures", "Count", 1);
  deps.logger.warn("failure recorded", {
    failureId: record.id,
    deviceId: input.deviceId,
    cause: record.cause,
  });
  return record;
}
