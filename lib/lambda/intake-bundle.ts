import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { SFNClient } from "@aws-sdk/client-sfn";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { DeviceStore } from "../devices/types.ts";
import { type IntakeOutcome, IntakeStats } from "../events/index.ts";
import { DynamoDeviceStore } from "../store/dynamo-device-store.ts";
import { type IntakeOptions, type IntakeResult, intakeEvent } from "../workflows/intake.ts";
import { StepFunctionsStarter, type WorkflowStarter } from "../workflows/starters.ts";
import { intakeOptionsOf, stateMachineArnsOf } from "./aws-intake.ts";
import { awsDocumentClient } from "./dynamo-client.ts";
import { ec2Cloud } from "./ec2-cloud.ts";
import { type ParsedIntakeEnvironment, readIntakeEnvironment } from "./env.ts";
import { logger, metrics, publishMetrics } from "./powertools.ts";

/** What the intake function works with; tests inject their own through `context.deps`. */
export interface IntakeFunctionDeps {
  devices: DeviceStore;
  starter: WorkflowStarter;
  options?: IntakeOptions;
}

export interface IntakeContext extends Context {
  deps?: IntakeFunctionDeps;
}

/** The AWS adapters of the intake function, built once per container from its environment. */
export function buildAwsIntakeDeps(env: ParsedIntakeEnvironment): IntakeFunctionDeps {
  const client = awsDocumentClient(env.DYNAMODB_ENDPOINT);
  const starter = new StepFunctionsStarter({
    client: new SFNClient({}),
    stateMachineArns: stateMachineArnsOf(env),
  });
  const options = intakeOptionsOf(env, ec2Cloud);
  return {
    devices: new DynamoDeviceStore({ client, tableName: env.DEVICES_TABLE }),
    starter,
    options,
  };
}

const METRIC_NAMES: Record<IntakeOutcome, string> = {
  accepted: "EventsAccepted",
  ignored: "EventsIgnored",
  rejected: "EventsRejected",
};

/**
 * The intake function: Powertools logging and metrics, the environment validated once into
 * dependencies, and one event taken in per invocation. A malformed event fails the invocation
 * with its `InvalidEventError`, so the asynchronous invocation's failure destination keeps it.
 * Each invocation emits one of `EventsAccepted` / `EventsIgnored` / `EventsRejected`, with the
 * event type, ignore reason or reject reason as the `reason` dimension.
 */
export function intakeHandler() {
  let built: IntakeFunctionDeps | undefined;
  return middy<unknown, IntakeResult, Error, IntakeContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      before: (request) => {
        request.context.deps ??= built ??= buildAwsIntakeDeps(readIntakeEnvironment());
      },
    })
    .handler(async (event, context) => {
      // biome-ignore lint/style/noNonNullAssertion: set by the before middleware above
      const { devices, starter, options } = context.deps!;
      const stats = new IntakeStats();
      try {
        return await intakeEvent({ devices, starter, stats, logger }, event, options);
      } finally {
        // One event per invocation gives exactly one counter, so its reason can be the
        // dimension of everything this invocation publishes.
        for (const { outcome, reason, count } of stats.metrics()) {
          metrics.addDimension("reason", reason);
          metrics.addMetric(METRIC_NAMES[outcome], MetricUnit.Count, count);
        }
      }
    });
}
