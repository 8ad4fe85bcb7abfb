import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { CloudInventory } from "../cloud/types.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import type { ManifestStore } from "../workflows/manifests.ts";
import { toTaskError } from "../workflows/task-errors.ts";
import { TASK_OPERATIONS } from "../workflows/task-operations.ts";
import type { TASKS, TaskName } from "../workflows/tasks/index.ts";
import { buildAwsDeps } from "./aws-deps.ts";
import { readTaskEnvironment } from "./env.ts";
import { logger, publishMetrics } from "./powertools.ts";

/** A Lambda context; the local runtime passes its own `deps`, Lambda builds them from env. */
export interface TaskContext extends Context {
  deps?: WorkflowDeps;
}

export interface WorkflowTaskOptions {
  /**
   * The EC2 checks, for the one task that diagnoses instances. Passed in by that function's
   * entry point so no other function's bundle carries the EC2 client.
   */
  cloud?: () => CloudInventory;
  /** The rotation manifests, for the fleet listing alone (the S3 client stays out of the rest). */
  manifests?: () => ManifestStore | undefined;
}

/**
 * The one middy bundle every workflow function uses: Powertools logging and metrics, the
 * environment validated once into dependencies, and errors mapped to the Task error names the
 * state machines Retry and Catch on. The task function is passed in, not looked up, so a
 * function's bundle holds its own task and not every other (nor their SSH client).
 */
export function workflowTask<K extends TaskName>(
  name: K,
  taskFunction: (typeof TASKS)[K],
  options: WorkflowTaskOptions = {},
) {
  let built: WorkflowDeps | undefined;
  // The state machine shapes each Task's input (Parameters); the task's own types describe it.
  const task = taskFunction as (deps: WorkflowDeps, input: never) => Promise<unknown>;
  return middy<unknown, unknown, Error, TaskContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      before: (request) => {
        if (!request.context.deps) {
          built ??= {
            ...buildAwsDeps(readTaskEnvironment(), options.cloud?.()),
            manifests: options.manifests?.(),
          };
          request.context.deps = built;
        }
        // Every log line of a task names its device and run; fingerprints only, never keys.
        const event = (request.event ?? {}) as { deviceId?: unknown; runId?: unknown };
        request.context.deps.logger.appendKeys({
          task: name,
          deviceId: typeof event.deviceId === "string" ? event.deviceId : undefined,
          runId: typeof event.runId === "string" ? event.runId : undefined,
        });
      },
      onError: (request) => {
        // An error the task did not map itself is recorded under the task's own operation.
        request.error = toTaskError(request.error, TASK_OPERATIONS[name]);
      },
    })
    .handler(async (input, context) => {
      // biome-ignore lint/style/noNonNullAssertion: set by the before middleware above
      return task(context.deps!, input as never);
    });
}
