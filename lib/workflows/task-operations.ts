import type { Operation } from "../failures/errors.ts";
import type { TaskName } from "./tasks/index.ts";

/**
 * The operation a task's unexpected error is recorded under. `undefined` for the tasks every
 * workflow shares (leases, status marks, the failure record itself): the failure then takes the
 * workflow's own operation when it is recorded.
 */
export const TASK_OPERATIONS: Readonly<Record<TaskName, Operation | undefined>> = {
  AcquireLease: undefined,
  ReleaseLease: undefined,
  Detect: "DETECT",
  Diagnose: "DETECT",
  Replace: "REPLACE",
  VerifyResolved: "VERIFY",
  MarkHealthy: undefined,
  MarkFailed: undefined,
  RecordFailure: undefined,
  Resolve: "RESOLVE",
  ForgetSecrets: "RESOLVE",
  CreateGeneration: "ROTATE",
  ListDevices: "ROTATE",
  RetireGenerations: "ROTATE",
  ReleaseRun: "ROTATE",
};
