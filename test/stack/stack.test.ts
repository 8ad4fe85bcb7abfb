/**
 * The deployed stack, run end to end on this machine (docs/testing.md): the synthesized
 * template's tables in DynamoDB Local, every function's own bundle with the template's
 * environment, the state machines' definitions in aws-local-stepfunctions, EventBridge rules and
 * the REST API in front of them, and real sshd devices.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEventType,
  ListExecutionsCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import {
  ec2StateChangeSample,
  executionStatusChangeSample,
} from "../fixtures/events/aws-samples.ts";
import { deviceReconnected, ec2StateChange } from "../fixtures/events/factory.ts";
import { type Fleet, REFUSING_HOST, startFleet, type TestDevice } from "../harness/fleet.ts";
import { eventually } from "../harness/local-runtime.ts";
import { registration } from "../harness/runtime-api.ts";
import type { LocalStack } from "./deploy.ts";
import { call, deployTestStack, endedRun, STACK_CONFIG } from "./harness.ts";
import { type Invocation, LambdaHost } from "./lambda-host.ts";
import { LocalTemplate, type Template } from "./template.ts";

type FailureBody = { id: string; deviceId: string; cause: string; runId: string | null };

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

/** The key blob of a platform key generation, as the keys API lists it. */
let platformKeys = new Map<number, string>();
const platformBlob = (generation: number) => platformKeys.get(generation) ?? "?";
async function readPlatformKeys() {
  const { items } = await call<{ items: Array<{ generation: number; publicKey: string }> }>(
    stack,
    "GET",
    "/keys",
    undefined,
    200,
  );
  platformKeys = new Map(items.map((k) => [k.generation, k.publicKey.split(" ")[1] ?? ""]));
}

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
    expect(stack.lambda.functions.size).toBeGreaterThanOrEqual(18);
    // Every function of keyheal's is Node.js; another runtime is CDK's console deployment alone.
    for (const { id } of stack.lambda.otherRuntimes) {
      expect(id).toMatch(/^CustomCDKBucketDeployment/);
    }
    // A null event fails every handler's input check, after its cold start checked the
    // environment (lib/lambda/env.ts): only a load or environment error matters here.
    // A few cold starts at a time: each is a Node.js process loading its bundle and SDK.
    const ids = [...stack.lambda.functions.keys()];
    const results: Array<{ id: string; result: Invocation }> = [];
    const starter = async () => {
      for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
        results.push({ id, result: await stack.lambda.invoke(id, null) });
      }
    };
    await Promise.all([starter(), starter(), starter()]);
    for (const { id, result } of results) {
      if (result.ok) continue;
      expect(LOAD_ERRORS, `${id}: ${result.error.errorMessage}`).not.toContain(
        result.error.errorType,
      );
      expect(result.error.errorMessage, id).not.toMatch(/environment is invalid/);
    }
  }, 360_000); // 18 cold starts: about half a minute on an idle machine, bounded for a busy one

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

describe("the deployed EventBridge rules", () => {
  const ruleIds = (event: unknown, bus?: string) =>
    stack.events.matching(event, bus).map((rule) => rule.id.replace(/[0-9A-F]{8}$/, ""));
  const machine = (name: string) =>
    stack.stepFunctions.machineArns.find((arn) => arn.includes(name)) as string;

  it("match AWS's sample events: EC2 running, Device Reconnected on keyheal's bus, a rotation that ended badly", () => {
    expect(ruleIds(ec2StateChangeSample("i-abcd1111", "running"))).toEqual(["IntakeEc2Running"]);
    expect(ruleIds(ec2StateChangeSample("i-abcd1111", "pending"))).toEqual([]);
    const bus = stack.events.rules.find((rule) => rule.bus !== "default")?.bus;
    const reconnected = deviceReconnected({ detail: { deviceId: "dev-1" } });
    expect(ruleIds(reconnected, bus)).toEqual(["IntakeDeviceReconnected"]);
    expect(ruleIds(reconnected)).toEqual([]);
    for (const status of ["FAILED", "TIMED_OUT", "ABORTED"]) {
      expect(ruleIds(executionStatusChangeSample(machine("rotate"), status))).toEqual([
        "WorkflowsRotationEnded",
      ]);
    }
    expect(ruleIds(executionStatusChangeSample(machine("rotate"), "SUCCEEDED"))).toEqual([]);
    expect(ruleIds(executionStatusChangeSample(machine("reconnect"), "FAILED"))).toEqual([]);
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
      expect.arrayContaining(["AcquireLease", "Detect", "MarkHealed", "ReleaseLease"]),
    );
    expect(await deviceRecord(registration.id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
    // The run as Step Functions records it, read by the SDK's own client: every event of a type
    // the API defines, carrying only that type's details, numbered from 1 and linked backwards.
    const description = await stack.sfn.send(new DescribeExecutionCommand({ executionArn: runId }));
    expect(description).toMatchObject({ executionArn: runId, status: "SUCCEEDED" });
    expect(description.stopDate).toBeInstanceOf(Date);
    const { events = [] } = await stack.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: runId, maxResults: 1000 }),
    );
    const types = new Set<string>(Object.values(HistoryEventType));
    events.forEach((event, i) => {
      expect(types, String(event.type)).toContain(event.type);
      expect(event.id).toBe(i + 1);
      expect(event.previousEventId).toBeLessThan(event.id as number);
      expect(event.timestamp).toBeInstanceOf(Date);
      const details = Object.keys(event).filter((k) => k.endsWith("EventDetails"));
      const type = String(event.type);
      // Every state's entry and exit share one details shape (HistoryEvent, Step Functions API).
      const own = type.endsWith("StateEntered")
        ? "stateEnteredEventDetails"
        : type.endsWith("StateExited")
          ? "stateExitedEventDetails"
          : `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
      expect(
        details.every((k) => k === own),
        `${event.type}: ${details}`,
      ).toBe(true);
    });
    expect(events.at(0)?.type).toBe("ExecutionStarted");
    expect(events.at(-1)?.type).toBe("ExecutionSucceeded");
    const lines = (await d.readAuthorizedKeys()).toString("utf8");
    expect(lines).toContain(gen2.authorizedKey.split(" ")[1]);
    expect(lines).not.toContain(gen1.authorizedKey.split(" ")[1]);
  });

  it("starts no second run for a duplicate EventBridge delivery", async () => {
    const instanceId = instanceIdOf(0);
    const event = ec2StateChange({ detail: { "instance-id": instanceId, state: "running" } });
    const [first] = await stack.events.put(event);
    // While the run is going, Step Functions answers the same name and input with the same
    // execution (lib/workflows/starters.ts); once it has ended, with ExecutionAlreadyExists.
    const [during] = await stack.events.put(event);
    expect(first?.result).toMatchObject({ ok: true, value: { outcome: "started" } });
    const runId = (first?.result as { value: { runId: string } }).value.runId;
    expect(during?.result).toMatchObject({ ok: true, value: { runId } });
    expect((await endedRun(stack, runId)).status).toBe("SUCCEEDED");
    const [after] = await stack.events.put(event);
    expect(after?.result).toMatchObject({ ok: true, value: { outcome: "duplicate", runId } });
    const reconnect = stack.stepFunctions.machineArns.find((arn) => /reconnect/.test(arn));
    const { executions } = await stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: reconnect }),
    );
    const name = runId.slice(runId.lastIndexOf(":") + 1);
    expect(executions?.filter((e) => e.name === name)).toHaveLength(1);
  });

  it("resolves 3 devices, with the Space key and with a custom key, polled through GET /jobs/{id}", async () => {
    const custom = generateKeyPair({ comment: "operator-custom" });
    const [d1, d2, d3] = [device(1), device(2), device(3)];
    await d1.resetHome("");
    await d2.resetHome("");
    await d3.resetHome(`${custom.authorizedKey}\n`);
    await call(stack, "POST", "/devices", { devices: [d1, d2, d3].map(registration) }, 200);
    const space = await call<{ jobId: string; runs: unknown[] }>(
      stack,
      "POST",
      "/devices/resolve",
      {
        mode: "space-key",
        devices: [d1, d2].map((d) => ({ id: d.id, adminUser: d.user })),
        password,
      },
      202,
    );
    const key = await call<{ jobId: string }>(
      stack,
      "POST",
      "/devices/resolve",
      {
        mode: "custom-key",
        devices: [{ id: d3.id, adminUser: d3.user }],
        privateKey: custom.privateKey,
      },
      202,
    );
    expect(space.runs).toHaveLength(2);
    for (const jobId of [space.jobId, key.jobId]) {
      const job = await eventually(
        `job ${jobId}`,
        async () => {
          const body = await call<{ status: string }>(
            stack,
            "GET",
            `/jobs/${jobId}`,
            undefined,
            200,
          );
          return body.status !== "RUNNING" && body;
        },
        60_000,
        250,
      );
      expect(job).toMatchObject({ status: "SUCCEEDED", failed: 0 });
    }
    await readPlatformKeys();
    for (const d of [d1, d2, d3]) {
      expect(await deviceRecord(d.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
      expect((await d.readAuthorizedKeys()).toString()).toContain(platformBlob(2));
    }
    // The operator's password and key lived in Secrets Manager only while their runs did.
    const operatorSecrets = [...stack.cloud.secrets.values()].filter((x) => !x.deleted);
    expect(operatorSecrets.map((x) => x.value).join("\n")).not.toContain(password);
    expect(operatorSecrets.map((x) => x.value).join("\n")).not.toContain(custom.privateKey);
  });

  it("rotates through the API with a device down, then lists, retries and deletes its failures", async () => {
    const down = device(3);
    await down.stop();
    let retryRun: string;
    try {
      const { runId } = await call<{ runId: string }>(
        stack,
        "POST",
        "/keys/rotate",
        { canary: 0, toleratedFailurePercentage: 50 },
        202,
      );
      const run = await endedRun(stack, runId, 90_000);
      expect(run).toMatchObject({ workflow: "rotate", status: "SUCCEEDED" });
      expect(run.progress).toEqual({ total: 4, done: 4, failed: 1 });
      expect(run.steps.map((s) => s.name)).toEqual(
        expect.arrayContaining([
          "CreateGeneration",
          "ListDevices",
          "InstallDevices",
          "RetireUnused",
        ]),
      );
      await readPlatformKeys();
      for (const d of [device(0), device(1), device(2)]) {
        expect((await d.readAuthorizedKeys()).toString()).toContain(platformBlob(3));
      }
      const failures = await call<{ items: FailureBody[] }>(
        stack,
        "GET",
        `/failures?deviceId=${down.id}`,
        undefined,
        200,
      );
      expect(failures.items).toHaveLength(1);
      const [failure] = failures.items as [FailureBody];
      expect(failure).toMatchObject({ deviceId: down.id, cause: "CONNECTION_REFUSED", runId });
      await down.start();
      await call(stack, "POST", "/devices", registration(down), 200);
      ({ runId: retryRun } = await call<{ runId: string }>(
        stack,
        "POST",
        `/failures/${failure.id}/retry`,
        undefined,
        202,
      ));
    } finally {
      await down.start();
    }
    expect(await endedRun(stack, retryRun)).toMatchObject({
      workflow: "reconnect",
      status: "SUCCEEDED",
    });
    expect(await deviceRecord(down.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 3 });
    const deleted = await call<{ deleted: number; more: boolean }>(
      stack,
      "DELETE",
      "/failures",
      undefined,
      200,
    );
    expect(deleted).toEqual({ deleted: 1, more: false });
    expect(await failureRecords()).toEqual([]);
  });

  it("releases the leases of a rotation stopped mid-fan-out and marks its devices (ReleaseRun rule)", async () => {
    const stuck = device(2);
    const pid = Number((await readFile(join(stuck.dir, "sshd.pid"), "utf8")).trim());
    // The paused sshd holds its connection in the listen backlog: that device's item hangs.
    process.kill(pid, "SIGSTOP");
    try {
      const { runId } = await call<{ runId: string }>(
        stack,
        "POST",
        "/keys/rotate",
        { canary: 0 },
        202,
      );
      const name = runId.slice(runId.lastIndexOf(":") + 1);
      await eventually(
        "the stuck device's lease",
        async () => (await deviceRecord(stuck.id))?.leaseOwner === name,
        30_000,
        100,
      );
      await stack.sfn.send(
        new StopExecutionCommand({ executionArn: runId, cause: "stopped by test" }),
      );
      const delivery = await eventually("the ReleaseRun delivery", async () =>
        stack.events.deliveries.find((x) => x.rule.startsWith("WorkflowsRotationEnded")),
      );
      expect(delivery.input).toEqual({ runId, owner: name, status: "ABORTED" });
      // Every device the stopped run still held, the stuck one among them.
      expect(delivery.result).toMatchObject({ ok: true });
      const { released } = (delivery.result as { value: { released: string[] } }).value;
      expect(released).toContain(stuck.id);
      const record = await deviceRecord(stuck.id);
      expect(record?.leaseOwner).toBeUndefined();
      expect(record).toMatchObject({ status: "UNKNOWN", lastFailureCause: "INTERNAL" });
      expect((await endedRun(stack, runId)).status).toBe("FAILED");
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });

  it("names the security-group rule to add when an instance's group blocks SSH", async () => {
    const d = device(1);
    // No sshd answers on this address: the connection fails, and Diagnose asks EC2 why.
    const registration = registerInstance(5, d, REFUSING_HOST);
    stack.cloud.securityGroups.set(registration.id.replace("i-", "sg-"), [
      { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
    ]);
    await call(stack, "POST", "/devices", registration, 200);
    const [delivery] = await stack.events.put(
      ec2StateChange({ detail: { "instance-id": registration.id, state: "running" } }),
    );
    const runId = (delivery?.result as { value: { runId: string } }).value.runId;
    const run = await endedRun(stack, runId);
    expect(run.status).toBe("FAILED");
    const failures = (await failureRecords()).filter((f) => f.deviceId === registration.id);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ cause: "SECURITY_GROUP_BLOCKS_SSH" });
    // The message names the rule to add: the group, the device's SSH port and keyheal's source.
    expect(String(failures[0]?.message)).toContain(
      `Add an inbound rule to ${registration.id.replace("i-", "sg-")}: TCP ${d.port} from ${STACK_CONFIG.managementCidr}`,
    );
  });
});
