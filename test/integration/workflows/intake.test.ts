import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Ec2Inventory } from "../../../lib/cloud/ec2-inventory.ts";
import type { DeviceRegistration } from "../../../lib/devices/types.ts";
import {
  IntakeStats,
  InvalidEventError,
  runNameFor,
  UnknownEventTypeError,
} from "../../../lib/events/index.ts";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import { type IntakeContext, intakeHandler } from "../../../lib/lambda/intake-bundle.ts";
import { logger, metrics } from "../../../lib/lambda/powertools.ts";
import type { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { RunStore } from "../../../lib/store/runs.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { type IntakeDeps, intakeEvent, managedByTag } from "../../../lib/workflows/intake.ts";
import { LocalStarter } from "../../../lib/workflows/starters.ts";
import { deviceReconnected, ec2StateChange, mutable } from "../../fixtures/events/factory.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

const INSTANCE = "i-0a1b2c3d4e5f60718";
const ec2Mock = mockClient(EC2Client);

let env: WorkflowEnv;
let deps: WorkflowDeps;
let runs: RunStore;
let runner: LocalWorkflowRunner;
let gen1: KeyPair;
let gen2: KeyPair;
let stats: IntakeStats;
/** The input each Detect step received, by run name. */
const detectInputs = new Map<string, unknown>();

const device = () => env.device();

function intake(): IntakeDeps {
  return { devices: deps.devices, starter: new LocalStarter(runner), stats, logger };
}

async function registerAs(id: string, extra: Partial<DeviceRegistration> = {}) {
  await env.register(device(), { id, ...extra });
  await deps.devices.update(id, { status: "UNKNOWN", keyGeneration: null, lastFailureCause: null });
}

async function ended(runId: string) {
  await runner.drain();
  return runs.get(runId);
}

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "intake",
    devices: 1,
    local: { sshTimeouts: { handshakeMs: 1500, connectMs: 1500 } },
    runner: {
      wrap: ({ stateName }, handler) =>
        stateName === "Detect"
          ? async (input) => {
              const { deviceId, trigger } = input as { deviceId: string; trigger: string };
              detectInputs.set(deviceId, { deviceId, trigger });
              return handler(input);
            }
          : handler,
    },
  });
  ({ deps, runs, runner } = env);
  gen1 = generateKeyPair({ comment: "gen1" });
  gen2 = generateKeyPair({ comment: "gen2" });
  await deps.keys.add(gen1);
  await deps.keys.add(gen2);
});
afterAll(async () => {
  await runner?.drain();
  await env?.stop();
});
beforeEach(async () => {
  stats = new IntakeStats();
  ec2Mock.reset();
  detectInputs.clear();
  // The device holds generation 1 while generation 2 is current: a key conflict.
  await device().resetHome(`# kept\n${gen1.authorizedKey}\n`);
  await registerAs(device().id);
});

describe("event intake starts the reconnect workflow", () => {
  it("a Device Reconnected event heals a device in conflict", async () => {
    const event = deviceReconnected({ detail: { deviceId: device().id } });

    const result = await intakeEvent(intake(), event);

    expect(result).toEqual({
      outcome: "started",
      runId: runNameFor(device().id, event.id),
      eventType: "DEVICE_RECONNECTED",
      eventId: event.id,
      deviceId: device().id,
      trigger: "device",
    });
    const run = await ended(result.outcome === "started" ? result.runId : "");
    expect(run).toMatchObject({ status: "SUCCEEDED", workflow: "reconnect" });
    expect(run?.steps.map((s) => s.name)).toContain("MarkHealed");
    expect(await deps.devices.get(device().id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
    expect((await device().readAuthorizedKeys()).toString()).toBe(
      `# kept\n${gen2.authorizedKey}\n`,
    );
    expect(detectInputs.get(device().id)).toEqual({ deviceId: device().id, trigger: "device" });
    expect(stats.snapshot().accepted).toEqual({ total: 1, byReason: { DEVICE_RECONNECTED: 1 } });
  });

  it("the same event delivered 10 times starts one run; 9 are duplicates of it", async () => {
    const event = deviceReconnected({ detail: { deviceId: device().id } });

    const results = await Promise.all(
      Array.from({ length: 10 }, () => intakeEvent(intake(), structuredClone(event))),
    );

    const outcomes = results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === "started")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(9);
    const runIds = new Set(results.map((r) => ("runId" in r ? r.runId : undefined)));
    expect(runIds).toEqual(new Set([runNameFor(device().id, event.id)]));
    expect((await ended(runNameFor(device().id, event.id)))?.status).toBe("SUCCEEDED");
    expect((await runs.list({ deviceId: device().id })).items.map((r) => r.id)).toContain(
      runNameFor(device().id, event.id),
    );
    expect(stats.count("accepted", "DEVICE_RECONNECTED")).toBe(10);
  });

  it("an EC2 running event for an instance registered as a device starts a run with trigger ec2", async () => {
    await registerAs(INSTANCE, { instanceId: INSTANCE, region: "eu-west-1" });
    const event = ec2StateChange({ detail: { "instance-id": INSTANCE, state: "running" } });

    const result = await intakeEvent(intake(), event);

    expect(result).toMatchObject({
      outcome: "started",
      runId: runNameFor(INSTANCE, event.id),
      eventType: "EC2_STATE_CHANGE",
      deviceId: INSTANCE,
      trigger: "ec2",
    });
    expect((await ended(runNameFor(INSTANCE, event.id)))?.status).toBe("SUCCEEDED");
    expect(detectInputs.get(INSTANCE)).toEqual({ deviceId: INSTANCE, trigger: "ec2" });
    expect(await deps.devices.get(INSTANCE)).toMatchObject({ status: "KEY_BASED" });
    expect(stats.count("accepted", "EC2_STATE_CHANGE")).toBe(1);
  });

  it("with a managed tag, a registered instance that no longer carries it is ignored", async () => {
    await registerAs(INSTANCE, { instanceId: INSTANCE, region: "eu-west-1" });
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [{ InstanceId: INSTANCE, State: { Name: "running", Code: 16 }, Tags: [] }],
        },
      ],
    });
    const cloud = new Ec2Inventory({ client: new EC2Client({ region: "eu-west-1" }) });
    const event = ec2StateChange({ detail: { "instance-id": INSTANCE } });

    const result = await intakeEvent(intake(), event, {
      confirmManaged: managedByTag(cloud, { key: "keyheal:managed" }),
    });

    expect(result).toMatchObject({ outcome: "ignored", reason: "UNMANAGED_INSTANCE" });
    expect(await runs.get(runNameFor(INSTANCE, event.id))).toBeUndefined();
    expect(stats.count("ignored", "UNMANAGED_INSTANCE")).toBe(1);
  });
});

describe("event intake starts nothing for events that need no run", () => {
  it("an EC2 stopped event is ignored", async () => {
    await registerAs(INSTANCE, { instanceId: INSTANCE, region: "eu-west-1" });
    const event = ec2StateChange({ detail: { "instance-id": INSTANCE, state: "stopped" } });

    const result = await intakeEvent(intake(), event);

    expect(result).toMatchObject({ outcome: "ignored", reason: "EC2_STATE_NOT_RUNNING" });
    expect(await runs.get(runNameFor(INSTANCE, event.id))).toBeUndefined();
    expect(stats.snapshot().ignored).toEqual({
      total: 1,
      byReason: { EC2_STATE_NOT_RUNNING: 1 },
    });
  });

  it("an event for a device nobody registered is ignored as UNKNOWN_DEVICE", async () => {
    const custom = deviceReconnected({ detail: { deviceId: "never-registered" } });
    const ec2 = ec2StateChange({ detail: { "instance-id": "i-00000000000000bad" } });

    const results = [await intakeEvent(intake(), custom), await intakeEvent(intake(), ec2)];

    for (const result of results) {
      expect(result).toMatchObject({ outcome: "ignored", reason: "UNKNOWN_DEVICE" });
    }
    expect(await runs.get(runNameFor("never-registered", custom.id))).toBeUndefined();
    expect(await deps.failures.list({ deviceId: "never-registered" })).toMatchObject({
      items: [],
    });
    expect(stats.count("ignored", "UNKNOWN_DEVICE")).toBe(2);
  });

  it("a malformed event throws InvalidEventError and is counted as rejected", async () => {
    const broken = mutable(deviceReconnected({ detail: { deviceId: device().id } }));
    (broken.detail as Record<string, unknown>).deviceId = "has spaces";
    const garbage: unknown[] = [broken, null, "event", [], 42, { "detail-type": 7 }, {}];

    for (const raw of garbage) {
      await expect(intakeEvent(intake(), raw)).rejects.toBeInstanceOf(InvalidEventError);
    }
    const unknownType = { ...mutable(deviceReconnected()), "detail-type": "Something Else" };
    await expect(intakeEvent(intake(), unknownType)).rejects.toBeInstanceOf(UnknownEventTypeError);

    expect(stats.snapshot().rejected).toEqual({
      total: garbage.length + 1,
      byReason: { INVALID_EVENT: garbage.length, UNKNOWN_EVENT_TYPE: 1 },
    });
    expect(stats.count("accepted")).toBe(0);
  });
});

describe("the intake Lambda handler", () => {
  function lambdaContext(): IntakeContext {
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName: "keyheal-intake",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:keyheal-intake",
      memoryLimitInMB: "256",
      awsRequestId: crypto.randomUUID(),
      logGroupName: "test",
      logStreamName: "test",
      getRemainingTimeInMillis: () => 30_000,
      done: () => {},
      fail: () => {},
      succeed: () => {},
      deps: { devices: deps.devices, starter: new LocalStarter(runner) },
    } satisfies Context & IntakeContext;
  }

  it("starts the run and emits EventsAccepted with the event type as reason", async () => {
    const added = vi.spyOn(metrics, "addMetric");
    const dimensions = vi.spyOn(metrics, "addDimension");
    try {
      const handler = intakeHandler();
      const event = deviceReconnected({ detail: { deviceId: device().id } });

      const result = await handler(event, lambdaContext());

      expect(result).toMatchObject({
        outcome: "started",
        runId: runNameFor(device().id, event.id),
      });
      expect(dimensions).toHaveBeenCalledWith("reason", "DEVICE_RECONNECTED");
      expect(added).toHaveBeenCalledWith("EventsAccepted", "Count", 1);
      await ended(runNameFor(device().id, event.id));
    } finally {
      added.mockRestore();
      dimensions.mockRestore();
    }
  });

  it("fails the invocation on a malformed event and emits EventsRejected", async () => {
    const added = vi.spyOn(metrics, "addMetric");
    const dimensions = vi.spyOn(metrics, "addDimension");
    try {
      const handler = intakeHandler();
      await expect(
        handler({ "detail-type": "Device Reconnected" }, lambdaContext()),
      ).rejects.toBeInstanceOf(InvalidEventError);
      expect(dimensions).toHaveBeenCalledWith("reason", "INVALID_EVENT");
      expect(added).toHaveBeenCalledWith("EventsRejected", "Count", 1);
    } finally {
      added.mockRestore();
      dimensions.mockRestore();
    }
  });
});
