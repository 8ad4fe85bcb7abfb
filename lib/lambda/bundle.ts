import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { WorkflowDeps } from "../workflows/deps.ts";
import { toTaskError } from "../workflows/task-errors.ts";
import { TASKS, type TaskName } from "../workflows/tasks/index.ts";
import { buildAwsDeps } from "./aws-deps.ts";
import { readTaskEnvironment } from "./env.ts";
import { logger, publishMetrics } from "./powertools.ts";

/** A Lambda context; the local runtime passes its own `deps`, Lambda builds them from env. */
export interface TaskContext extends Context {
  deps?: WorkflowDeps;
}

/**
 * The one middy bundle every workflow function uses: Powertools logging and metrics, the
 * environment validated once into dependencies, and errors mapped to the Task error names the
 * state machines Retry and Catch on.
 */
export function workflowTask<K extends TaskName>(name: K) {
  let built: WorkflowDeps | undefined;
  // The state machine shapes each Task's input (Parameters); the task's own types describe it.
  const task = TASKS[name] as (deps: WorkflowDeps, input: never) => Promise<unknown>;
  return middy<unknown, unknown, Error, TaskContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      before: (request) => {
        if (!request.context.deps) {
          built ??= buildAwsDeps(readTaskEnvironment());
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
        request.error = toTaskError(request.error, "DETECT");
      },
    })
    .handler(async (input, context) => {
      // biome-ignore lint/style/noNonNullAssertion: set by the before middleware above
      return task(context.deps!, input as never);
    });
}
