import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { SFNClient } from "@aws-sdk/client-sfn";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { BadRequestError, errorResponse } from "../api/errors.ts";
import { createRouter, dispatch } from "../api/routes.ts";
import type { ApiContext, ApiResponse } from "../api/types.ts";
import { IntakeStats } from "../events/intake-stats.ts";
import { DynamoJobStore } from "../store/dynamo-job-store.ts";
import { StepFunctionsStarter } from "../workflows/starters.ts";
import { StepFunctionsRunReader } from "../workflows/step-functions-runs.ts";
import { buildAwsStores } from "./aws-deps.ts";
import { intakeOptionsOf, stateMachineArnsOf } from "./aws-intake.ts";
import { ec2Cloud } from "./ec2-cloud.ts";
import { type ParsedApiEnvironment, readApiEnvironment } from "./env.ts";
import { logger, metrics, publishMetrics } from "./powertools.ts";
import { WORKFLOW_STATES } from "./workflow-states.ts";

/** A Lambda context; tests pass their own `api` context, Lambda builds it from env. */
export interface ApiLambdaContext extends Context {
  api?: ApiContext;
}

/** The ops API's domain over AWS: DynamoDB, Secrets Manager, Step Functions, EC2. */
export function buildAwsApiContext(env: ParsedApiEnvironment): ApiContext {
  const { client, secrets, ...stores } = buildAwsStores(env);
  const sfn = new SFNClient({});
  const arns = stateMachineArnsOf(env);
  const starter = new StepFunctionsStarter({ client: sfn, stateMachineArns: arns });
  const byMachineName = new Map(
    Object.entries(arns).map(([workflow, arn]) => [arn.slice(arn.lastIndexOf(":") + 1), workflow]),
  );
  const ec2 = ec2Cloud();
  return {
    deps: {
      ...stores,
      secrets,
      cloud: ec2,
      sshSource: {},
      sshTimeouts: {},
      leaseTtlMs: 15 * 60_000,
      logger,
      metrics,
      now: () => new Date(),
    },
    runs: new StepFunctionsRunReader({
      client: sfn,
      workflowOf: (name) => byMachineName.get(name) ?? name,
      statesOf: (workflow) => WORKFLOW_STATES[workflow as keyof typeof WORKFLOW_STATES] ?? {},
      stateMachineArns: arns,
    }),
    jobs: new DynamoJobStore({ client, tableName: env.JOBS_TABLE }),
    starter,
    intake: { devices: stores.devices, starter, stats: new IntakeStats(), logger },
    intakeOptions: intakeOptionsOf(env, () => ec2),
    resolveSecretTtlSeconds: env.RESOLVE_SECRET_TTL_SECONDS,
    // Child executions at once; docs/scale.md explains the choice.
    rotateConcurrency: 100,
  };
}

/** The request of a REST API proxy event, transport stripped; a bad body is a 400. */
export function requestOf(event: APIGatewayProxyEvent) {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  let body: unknown;
  if (event.body !== null && event.body !== undefined) {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body;
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        throw new BadRequestError("(body)", "The request body is not valid JSON.");
      }
    }
  }
  return { method: event.httpMethod, path: event.path, query, body };
}

function proxyResult(response: ApiResponse): APIGatewayProxyResult {
  return {
    statusCode: response.status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...response.headers,
    },
    body: JSON.stringify(response.body),
  };
}

/**
 * The ops API function behind API Gateway (REST API, Lambda proxy, IAM authorization): the
 * same router and handlers the local runtime serves. Request bodies are never logged: they may
 * carry an operator's password or private key on their way to the secret store.
 */
export function apiHandler() {
  const router = createRouter();
  let built: ApiContext | undefined;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiLambdaContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      before: (request) => {
        request.context.api ??= built ??= buildAwsApiContext(readApiEnvironment());
      },
    })
    .handler(async (event, context) => {
      let response: ApiResponse;
      let method = event.httpMethod;
      let path = event.path;
      try {
        const request = requestOf(event);
        method = request.method;
        path = request.path;
        // biome-ignore lint/style/noNonNullAssertion: set by the before middleware above
        response = await dispatch(context.api!, router, method, path, request);
      } catch (error) {
        response = errorResponse(error);
      }
      logger.info("request", {
        method,
        path,
        status: response.status,
        caller: event.requestContext?.identity?.userArn ?? undefined,
      });
      return proxyResult(response);
    });
}
