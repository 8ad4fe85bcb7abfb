import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ApiContext } from "../../../lib/api/types.ts";
import { IntakeStats } from "../../../lib/events/intake-stats.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { type ApiLambdaContext, apiHandler } from "../../../lib/lambda/api-bundle.ts";
import { InvalidEnvironmentError } from "../../../lib/lambda/env.ts";
import { DynamoJobStore } from "../../../lib/store/dynamo-job-store.ts";
import { LocalStarter } from "../../../lib/workflows/starters.ts";
import { eventually } from "../../harness/local-runtime.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

let env: WorkflowEnv;
let api: ApiContext;
const handler = apiHandler();
const password = inject("devicePassword");

function event(
  method: string,
  path: string,
  options: { query?: Record<string, string>; body?: string; base64?: boolean } = {},
): APIGatewayProxyEvent {
  const body =
    options.body === undefined
      ? null
      : options.base64
        ? Buffer.from(options.body).toString("base64")
        : options.body;
  return {
    httpMethod: method,
    path,
    resource: "/{proxy+}",
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    headers: { "content-type": "application/json" },
    multiValueHeaders: {},
    body,
    isBase64Encoded: options.base64 === true,
    requestContext: {
      identity: { userArn: "arn:aws:iam::123456789012:user/operator" },
    } as APIGatewayProxyEvent["requestContext"],
  };
}

function context(withApi = true): ApiLambdaContext {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "keyheal-api",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:keyheal-api",
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: "test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
    ...(withApi ? { api } : {}),
  } as ApiLambdaContext;
}

// biome-ignore lint/suspicious/noExplicitAny: the answers' JSON has many shapes, read field by field
type Json = any;

async function call(e: APIGatewayProxyEvent): Promise<APIGatewayProxyResult & { json: Json }> {
  const result = (await handler(e, context() as Context)) as APIGatewayProxyResult;
  return { ...result, json: JSON.parse(result.body) };
}

beforeAll(async () => {
  env = await startWorkflowEnv({ devices: 1, name: "lambda-api" });
  const starter = new LocalStarter(env.runner);
  api = {
    deps: env.deps,
    runs: env.runs,
    jobs: new DynamoJobStore({ client: env.dynamo.client, tableName: env.dynamo.tables.jobs }),
    starter,
    intake: {
      devices: env.deps.devices,
      starter,
      stats: new IntakeStats(),
      logger: env.deps.logger,
    },
  };
});

afterAll(async () => {
  await env?.runner.drain();
  await env?.stop();
});

describe("the ops API behind API Gateway", () => {
  it("answers REST proxy events through the same router: query, JSON and base64 bodies", async () => {
    const d = env.device(0);
    const registered = await call(
      event("POST", "/devices", {
        body: JSON.stringify({
          id: d.id,
          host: d.host,
          port: d.port,
          adminUser: d.user,
          hostKeyFingerprint: d.hostKeyFingerprint,
        }),
        base64: true,
      }),
    );
    expect(registered.statusCode).toBe(200);
    expect(registered.headers).toMatchObject({ "content-type": "application/json; charset=utf-8" });
    expect(registered.json.items[0]).toMatchObject({ id: d.id, status: "UNKNOWN" });

    const listed = await call(event("GET", "/devices", { query: { status: "UNKNOWN" } }));
    expect(listed.statusCode).toBe(200);
    expect(listed.json.items.map((x: { id: string }) => x.id)).toEqual([d.id]);
    const none = await call(event("GET", "/devices", { query: { status: "KEY_BASED" } }));
    expect(none.json).toEqual({ items: [], nextCursor: null });
  });

  it("maps errors to statuses by class: 400 naming the field, 404, 405 with Allow", async () => {
    const badJson = await call(event("POST", "/devices", { body: "{not json" }));
    expect(badJson).toMatchObject({ statusCode: 400, json: { field: "(body)" } });
    const badLimit = await call(event("GET", "/failures", { query: { limit: "0" } }));
    expect(badLimit).toMatchObject({ statusCode: 400, json: { field: "limit" } });
    const badKey = await call(
      event("POST", "/keys/import", { body: JSON.stringify({ privateKey: "hunter2" }) }),
    );
    expect(badKey).toMatchObject({ statusCode: 400, json: { field: "privateKey" } });
    expect(badKey.body).not.toContain("hunter2");
    expect((await call(event("GET", "/nowhere"))).statusCode).toBe(404);
    const wrongMethod = await call(event("PUT", "/keys"));
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers).toMatchObject({ allow: "GET" });
  });

  it("starts a resolve job whose progress is read back through the same function", async () => {
    const gen1 = generateKeyPair({ comment: "platform" });
    const imported = await call(
      event("POST", "/keys/import", { body: JSON.stringify({ privateKey: gen1.privateKey }) }),
    );
    expect(imported.statusCode).toBe(201);
    expect(imported.body).not.toContain("PRIVATE KEY");
    const d = env.device(0);
    await d.resetHome(`${generateKeyPair({ comment: "foreign" }).authorizedKey}\n`);
    const started = await call(
      event("POST", "/devices/resolve", {
        body: JSON.stringify({
          mode: "space-key",
          devices: [{ id: d.id, adminUser: d.user }],
          password,
        }),
      }),
    );
    expect(started.statusCode).toBe(202);
    const job = await eventually("the job to end", async () => {
      const read = await call(event("GET", `/jobs/${started.json.jobId}`));
      return read.json.status !== "RUNNING" && read.json;
    });
    expect(job).toMatchObject({ status: "SUCCEEDED", total: 1, succeeded: 1 });
    expect((await d.readAuthorizedKeys()).toString()).toContain(gen1.authorizedKey.split(" ")[1]);
    const stats = await call(event("GET", "/failures/stats"));
    expect(stats).toMatchObject({ statusCode: 200, json: { total: 0, items: [] } });
  });

  it("refuses to start with an invalid environment, naming the variables", async () => {
    const fresh = apiHandler();
    await expect(fresh(event("GET", "/devices"), context(false) as Context)).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof InvalidEnvironmentError &&
        error.message.includes("DEVICES_TABLE") &&
        error.message.includes("RECONNECT_STATE_MACHINE_ARN"),
    );
  });
});
