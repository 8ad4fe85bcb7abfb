/**
 * What a Task handler sees of Lambda when the local runtime calls it in process: a Lambda
 * context carrying the runtime's dependencies, and errors reported as Lambda reports them.
 *
 * @module
 */
import { InvokeStoreBase } from "@aws/lambda-invoke-store";
import type { Context } from "aws-lambda";
import { enableConcurrentInvocations } from "../lambda/env.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";

/** A Lambda context for the function `keyheal-<name>`, with the runtime's `deps`. */
export function lambdaContext(name: string, deps: WorkflowDeps): Context & { deps: WorkflowDeps } {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `keyheal-local-${name}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:keyheal-${name}`,
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: "local",
    logStreamName: "local",
    getRemainingTimeInMillis: () => 900_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
    deps,
  };
}

/**
 * A task's error as Lambda reports it to Step Functions: its name and message only. The
 * interpreter takes an error's `cause` for the state's Cause when there is one, and a TaskError
 * keeps the original error there (for logs): the Cause must stay the message, as on AWS.
 */
export function asLambdaReportsIt(error: unknown): unknown {
  if (!(error instanceof Error) || error.cause === undefined) return error;
  const reported = new Error(error.message);
  reported.name = error.name;
  return reported;
}

/** A task handler as the runner calls it. */
export type LocalLambda<I, O> = (input: I, context: Context & { deps: WorkflowDeps }) => Promise<O>;

/**
 * Runs one task invocation as Lambda runs invocations that share an execution environment: each
 * inside its own InvokeStore context, with `AWS_LAMBDA_MAX_CONCURRENCY` set, which is how the
 * Powertools logger keeps one invocation's appended keys (its device and run) and Lambda context
 * apart from another's. The local runtime runs many tasks at once in one process and one
 * logger, so without it a log line could name the device of the task that started last.
 */
export async function invokeLocally<I, O>(
  handler: LocalLambda<I, O>,
  input: I,
  context: Context & { deps: WorkflowDeps },
): Promise<O> {
  const store = await enableConcurrentInvocations();
  return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
    handler(input, context),
  );
}
