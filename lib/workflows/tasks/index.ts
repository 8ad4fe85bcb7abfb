/**
 * Every Task of the three state machines, by the name of its ASL Resource placeholder
 * (`${NameFunctionArn}`). The Lambda handlers in functions/ and the local runtime bind the same
 * functions to the same names.
 */
import { detect } from "./detect.ts";
import { diagnose } from "./diagnose.ts";
import { forgetSecrets } from "./forget-secrets.ts";
import { acquireLease, releaseLease } from "./lease.ts";
import { markFailed, markHealthy } from "./mark-status.ts";
import { recordFailure } from "./record-failure.ts";
import { replace } from "./replace.ts";
import { resolve } from "./resolve.ts";
import { createGeneration, listDevices, releaseRun, retireGenerations } from "./rotate.ts";
import { verifyResolved } from "./verify.ts";

export const TASKS = {
  AcquireLease: acquireLease,
  ReleaseLease: releaseLease,
  Detect: detect,
  Diagnose: diagnose,
  Replace: replace,
  VerifyResolved: verifyResolved,
  MarkHealthy: markHealthy,
  MarkFailed: markFailed,
  RecordFailure: recordFailure,
  Resolve: resolve,
  ForgetSecrets: forgetSecrets,
  CreateGeneration: createGeneration,
  ListDevices: listDevices,
  RetireGenerations: retireGenerations,
  ReleaseRun: releaseRun,
} as const;

export type TaskName = keyof typeof TASKS;
