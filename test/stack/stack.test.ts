/**
 * The deployed stack, run end to end on this machine (docs/testing.md): the synthesized
 * template's tables in DynamoDB Local, every function's own bundle with the template's
 * environment, the state machines' definitions in aws-local-stepfunctions, EventBridge rules and
 * the REST API in front of them, and real sshd devices.
 */

import { ListExecutionsCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { ec2StateChange } from "../fixtures/events/factory.ts";
import { type Fleet, REFUSING_HOST, startFleet, type TestDevice } from "../harness/fleet.ts";
import { eventually } from "../harness/local-runtime.ts";
import type { LocalStack } from "./deploy.ts";
import { call, deployTestStack, endedRun, type RunBody, STACK_CONFIG } from "./harness.ts";
import { LambdaHost } from "./lambda-host.ts";
import { LocalTemplate, type Template } from "./template.ts";

let stack: LocalStack;
let fleet: Fleet;
const password = inject("devicePassword");
const gen1 = generateKeyPair({ comment: "platform-gen1" });
const device = (i: number) => fleet.devices[i] as TestDevice;

/** The table the template names by this logical-id prefix (`Tablesdevices…`). */
const table = (kind: string) => {
  const name = Object.entries(stack.tables).find(([id]) => id.startsWith(`Tables${kind}`))?.[1];
  if (!name) throw new Error(`no ${kind} table in the template`);
  return name;
};
const deviceRecord = async (id: string) =>
  (await stack.dynamo.send(new GetCommand({ TableName: table("devices"), Key: { id } }))).Item;
const failureRecords = async () =>
  (await stack.dynamo.send(new ScanCommand({ TableName: table("failures") }))).Items ?? [];

/** An EC2 instance id for a test device (device ids of EC2 instances are their instance ids). */
const instanceIdOf = (n: number) => `i-0${n.toString(16).padStart(16, "0")}`;

function registerInstance(n: number, d: TestDevice, host = d.host) {
  const instanceId = instanceIdOf(n);
  stack.cloud.instances.set(instanceId, {
    instanceId,
    state: "running",
    privateIp: host,
    tags: { [STACK_CONFIG.managedTagKey]: "true" },
    securityGroupIds: [`sg-0${n.toString(16).padStart(16, "0")}`],
  });
  return {
    id: instanceId,
    host,
    port: d.port,
    adminUser: d.user,
    instanceId,
    hostKeyFingerprint: d.hostKeyFingerprint,
  };
}

beforeAll(async () => {
  [stack, fleet] = await Promise.all([deployTestStack(inject("dynamoEndpoint")), startFleet(4)]);
  await call(stack, "POST", "/keys/import", { privateKey: gen1.privateKey }, 201);
});

afterAll(async () => {
  await stack?.stop();
  await fleet?.stop();
});

describe("the deployed functions", () => {
  const LOAD_ERRORS = ["Runtime.ImportModuleError", "Runtime.HandlerNotFound", "Runtime.ExitError"];

  it("each load their own bundle, find their handler and accept the template's environment", async () => {
    expect(stack.lambda.functions.size).toBeGreaterThanOrEqual(19);
    // A null event fails every handler's input check, after its cold start checked the
    // environment (lib/lambda/env.ts): only a load or environment error matters here.
    const results = await Promise.all(
      [...stack.lambda.functions.keys()].map(async (id) => ({
        id,
        result: await stack.lambda.invoke(id, null),
      })),
    );
    for (const { id, result } of results) {
      if (result.ok) continue;
      expect(LOAD_ERRORS, `${id}: ${result.error.errorMessage}`).not.toContain(
        result.error.errorType,
      );
      expect(result.error.errorMessage, id).not.toMatch(/environment is invalid/);
    }
  }, 180_000);

  it("fail on a missing variable, a handler name that does not match and a bundle that does not load", async () => {
    const broken = structuredClone(stack.template.template) as Template;
    const functions = Object.values(broken.Resources).filter(
      (r) => r.Type === "AWS::Lambda::Function",
    );
    const [noTable, noHandler, noBundle] = functions as [
      (typeof functions)[number],
      (typeof functions)[number],
      (typeof functions)[number],
    ];
    const variables = (noTable.Properties?.Environment as { Variables: Record<string, unknown> })
      .Variables;
    delete variables.DEVICES_TABLE;
    (noHandler.Properties as Record<string, unknown>).Handler = "index.handle";
    (noBundle.Properties as { Code: { S3Key: string } }).Code.S3Key = "0000.zip";
    const host = new LambdaHost({
      template: new LocalTemplate(broken, stack.template.assemblyDir, "broken-"),
      cloud: stack.cloud,
      endpoints: {},
      logDir: stack.logDir,
    });
    try {
      const ids = Object.entries(broken.Resources)
        .filter(([, r]) => functions.slice(0, 3).includes(r))
        .map(([id]) => id);
      const [missing, handler, bundle] = await Promise.all(ids.map((id) => host.invoke(id, null)));
      expect(missing).toMatchObject({ ok: false });
      expect(JSON.stringify(missing)).toMatch(/DEVICES_TABLE/);
      expect(handler).toMatchObject({ ok: false, error: { errorType: "Runtime.HandlerNotFound" } });
      expect(bundle).toMatchObject({
        ok: false,
        error: { errorType: "Runtime.ImportModuleError" },
      });
    } finally {
      await host.stop();
    }
  });
});

describe("the deployed stack", () => {
  it("heals an EC2 instance in key conflict when it enters running, readable through GET /runs/{id}", async () => {
    const gen2 = generateKeyPair({ comment: "platform-gen2" });
    const d = device(0);
    await d.resetHome(`${gen1.authorizedKey}\n`);
    const registration = registerInstance(0, d);
    await call(stack, "POST", "/devices", registration, 200);
    await call(stack, "POST", "/keys/import", { privateKey: gen2.privateKey }, 201);

    const event = ec2StateChange({ detail: { "instance-id": registration.id, state: "running" } });
    const deliveries = await stack.events.put(event);
    expect(deliveries.map((x) => x.rule)).toEqual([expect.stringMatching(/^IntakeEc2Running/)]);
    const intake = deliveries[0]?.result;
    expect(intake).toMatchObject({ ok: true });
    const runId = (intake as { value: { runId: string } }).value.runId;
    expect(runId).toMatch(/^arn:aws:states:us-east-1:123456789012:execution:/);

    const run = await endedRun(stack, runId);
    expect(run).toMatchObject({ id: runId, workflow: "reconnect", status: "SUCCEEDED" });
    expect(run.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "AcquireLease",
        "Detect",
        "Replace",
        "Verify",
        "MarkHealed",
        "ReleaseLease",
      ]),
    );
    expect(await deviceRecord(registration.id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
    const lines = (await d.readAuthorizedKeys()).toString("utf8");
    expect(lines).toContain(gen2.authorizedKey.split(" ")[1]);
    expect(lines).not.toContain(gen1.authorizedKey.split(" ")[1]);
  });
});
