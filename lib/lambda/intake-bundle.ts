import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { Ec2Inventory } from "../cloud/ec2-inventory.ts";
import type { DeviceStore } from "../devices/types.ts";
import { type IntakeOutcome, IntakeStats } from "../events/index.ts";
import { DynamoDeviceStore } from "../store/dynamo-device-store.ts";
import {
  type IntakeOptions,
  type IntakeResult,
  intakeEvent,
  managedByTag,
} from "../workflows/intake.ts";
import { StepFunctionsStarter, type WorkflowStarter } from "../workflows/starters.ts";
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
  const dynamo = new DynamoDBClient(
    env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {},
  );
  const client = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const starter = new StepFunctionsStarter({
    client: new SFNClient({}),
    stateMachineArns: {
      reconnect: env.RECONNECT_STATE_MACHINE_ARN,
      resolve: env.RESOLVE_STATE_MACHINE_ARN,
      rotate: env.ROTATE_STATE_MACHINE_ARN,
    },
  });
  const tagKey = env.MANAGED_TAG_KEY;
  // EventBridge rules are regional: the events, the instances and this client share a region.
  const options: IntakeOptions =
    tagKey === undefined
      ? {}
      : {
          confirmManaged: managedByTag(new Ec2Inventory({ client: new EC2Client({}) }), {
            key: tagKey,
            ...(env.MANAGED_TAG_VALUE === undefined ? {} : { value: env.MANAGED_TAG_VALUE }),
          }),
        };
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
