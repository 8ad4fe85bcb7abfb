import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import type { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { allDevices } from "../../../lib/workflows/tasks/rotate.ts";
import type { Fleet } from "../../harness/fleet.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

let env: WorkflowEnv;
let fleet: Fleet;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let gen1: KeyPair;
let counter = 0;
const password = inject("devicePassword");
const device = (i: number) => env.device(i);

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "rr",
    devices: 2,
    local: { sshTimeouts: { connectMs: 1500, handshakeMs: 1500 } },
  });
  ({ fleet, deps, runner } = env);
  gen1 = generateKeyPair();
  await deps.keys.add(gen1);
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  for (const d of fleet.devices) {
    await env.register(d);
    await deps.failures.deleteMany({ deviceId: d.id });
  }
});

async function resolveRun(input: Record<string, unknown>) {
  const { done } = await runner.start("resolve", `resolve-${++counter}`, {
    loginUser: null,
    passphraseRef: null,
    adopt: null,
    ...input,
  });
  return done;
}

describe("resolve workflow (the operator's Resolve Key Conflict)", () => {
  it("Space key: logs in by password, installs the platform key, forgets the password", async () => {
    await device(0).resetHome(`${generateKeyPair().authorizedKey}\n`);
    const secretRef = await deps.secrets.put(`resolve/${counter}`, password, { ttlSeconds: 300 });
    const run = await resolveRun({
      deviceId: device(0).id,
      mode: "space-key",
      adminUser: device(0).user,
      secretRef,
    });
    expect(run.status).toBe("SUCCEEDED");
    const current = await deps.keys.current();
    expect(await deps.devices.get(device(0).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: current?.generation,
    });
    expect((await device(0).readAuthorizedKeys()).toString()).toContain(
      current?.publicKey.split(" ")[1],
    );
    await expect(deps.secrets.get(secretRef)).rejects.toThrow();
    expect(JSON.stringify(run)).not.toContain(password);
  });

  it("custom key with its passphrase: adopted as the device's credential", async () => {
    const custom = generateKeyPair({ type: "ecdsa" });
    await device(1).resetHome(`${custom.authorizedKey}\n`);
    const secretRef = await deps.secrets.put(`resolve/k${counter}`, custom.privateKey, {
      ttlSeconds: 300,
    });
    const run = await resolveRun({
      deviceId: device(1).id,
      mode: "custom-key",
      adminUser: device(1).user,
      secretRef,
      adopt: true,
    });
    expect(run.status).toBe("SUCCEEDED");
    expect(await deps.devices.get(device(1).id)).toMatchObject({ status: "CUSTOM_KEY_BASED" });
    expect((await device(1).readAuthorizedKeys()).toString()).toBe(`${custom.authorizedKey}\n`);
  });

  it("an unusable custom key is recorded as INVALID_PRIVATE_KEY for the RESOLVE operation", async () => {
    const secretRef = await deps.secrets.put(`resolve/bad${counter}`, "not a key at all", {
      ttlSeconds: 300,
    });
    const run = await resolveRun({
      deviceId: device(1).id,
      mode: "custom-key",
      adminUser: device(1).user,
      secretRef,
    });
    expect(run.status).toBe("FAILED");
    const { items } = await deps.failures.list({ deviceId: device(1).id });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ cause: "INVALID_PRIVATE_KEY", operation: "RESOLVE" });
    await expect(deps.secrets.get(secretRef)).rejects.toThrow();
  });

  it("issue 14.10: a resolve that fails on a wrong password keeps the device's status and records the failure", async () => {
    await device(0).resetHome(`${generateKeyPair().authorizedKey}\n`);
    await deps.devices.update(device(0).id, { status: "KEY_CONFLICT", lastFailureCause: null });
    const secretRef = await deps.secrets.put(`resolve/w${counter}`, `${password}-wrong`, {
      ttlSeconds: 300,
    });
    const run = await resolveRun({
      deviceId: device(0).id,
      mode: "space-key",
      adminUser: device(0).user,
      secretRef,
    });
    expect(run.status).toBe("FAILED");
    expect(await deps.devices.get(device(0).id)).toMatchObject({
      status: "KEY_CONFLICT",
      lastFailureCause: "AUTH_REJECTED",
    });
    expect((await deps.devices.list({ status: "KEY_CONFLICT" })).items.map((x) => x.id)).toContain(
      device(0).id,
    );
    const { items } = await deps.failures.list({ deviceId: device(0).id });
    expect(items.map((f) => [f.cause, f.operation])).toEqual([["AUTH_REJECTED", "RESOLVE"]]);
  });

  it("acting for another user through a login that may not sudo is recorded as SUDO_FAILED", async () => {
    const secretRef = await deps.secrets.put(`resolve/u${counter}`, password, { ttlSeconds: 300 });
    const run = await resolveRun({
      deviceId: device(0).id,
      mode: "space-key",
      adminUser: `kh_new_${randomBytes(3).toString("hex")}`,
      loginUser: device(0).user,
      secretRef,
    });
    expect(run.status).toBe("FAILED");
    const { items } = await deps.failures.list({ deviceId: device(0).id });
    expect(items.map((f) => f.cause)).toEqual(["SUDO_FAILED"]);
  });
});

describe("rotate workflow", () => {
  it("installs N+1 on every reachable device; a device that is down is recorded and keeps its generation", async () => {
    const before = (await deps.keys.current())?.generation ?? 0;
    const held = (await deps.keys.loadGenerations())[0]?.key as KeyPair;
    for (const d of fleet.devices) await d.resetHome(`${held.authorizedKey}\n`);
    await deps.devices.update(device(0).id, { keyGeneration: before, status: "KEY_BASED" });
    await deps.devices.update(device(1).id, { keyGeneration: before, status: "KEY_BASED" });
    await device(1).stop();
    try {
      const { done } = await runner.start("rotate", `rotate-${++counter}`, {
        algorithm: "ed25519",
        canary: 0,
      });
      const run = await done;
      expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
      expect(run.output).toMatchObject({
        key: { generation: before + 1 },
        plan: { total: 2, canary: { count: 0 }, fleet: { count: 2 }, toleratedFailures: 2 },
      });
      expect(run.progress).toEqual({ total: 2, done: 2, failed: 1 });
      expect(await deps.devices.get(device(0).id)).toMatchObject({
        status: "KEY_BASED",
        keyGeneration: before + 1,
      });
      expect(await deps.devices.get(device(1).id)).toMatchObject({
        status: "UNREACHABLE",
        keyGeneration: before,
      });
      const { items } = await deps.failures.list({ deviceId: device(1).id });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ operation: "ROTATE", cause: "CONNECTION_REFUSED" });
      // Device 1 still holds the previous generation, so it is not retired.
      expect((await deps.keys.get(before))?.status).toBe("PREVIOUS");
    } finally {
      await device(1).start();
      await env.register(device(1));
    }

    // It comes back and heals through reconnect; the next rotation retires what nobody holds.
    const healed = await (
      await runner.start("reconnect", `back-${counter}`, {
        deviceId: device(1).id,
        eventId: "back",
        trigger: "device",
        attempt: 1,
      })
    ).done;
    expect(healed.status).toBe("SUCCEEDED");
    expect(await deps.devices.get(device(1).id)).toMatchObject({ keyGeneration: before + 1 });
    const next = await (await runner.start("rotate", `rotate-${++counter}`, { algorithm: "rsa" }))
      .done;
    expect(next.status).toBe("SUCCEEDED");
    expect((await deps.keys.get(before))?.status).toBe("RETIRED");
    const generations = new Set((await allDevices(deps)).map((d) => d.keyGeneration));
    expect(generations).toEqual(new Set([before + 2]));
  });

  it("issue 12.1: a canary that fails stops the rotation before any other device is touched, and releases it", async () => {
    const before = (await deps.keys.current())?.generation ?? 0;
    const held = (await deps.keys.loadGenerations())[0]?.key as KeyPair;
    for (const d of fleet.devices) await d.resetHome(`${held.authorizedKey}\n`);
    await deps.devices.update(device(0).id, { keyGeneration: before, status: "UNKNOWN" });
    await deps.devices.update(device(1).id, { keyGeneration: before, status: "KEY_BASED" });
    // The canary answers (canaries are probed first) but no longer takes keyheal's key.
    await device(1).resetHome(`${generateKeyPair({ comment: "by-hand" }).authorizedKey}\n`);
    try {
      const run = await (
        await runner.start("rotate", `rotate-${++counter}`, { algorithm: "ed25519", canary: 1 })
      ).done;
      expect(run).toMatchObject({ status: "FAILED", error: "Keyheal.CanaryFailed" });
      expect(run.progress).toEqual({ total: 1, done: 1, failed: 1 });
      // The canary holds no lease and says why; the other device was never touched.
      expect(await deps.devices.get(device(1).id)).toMatchObject({ status: "KEY_CONFLICT" });
      expect(await deps.devices.acquireLease(device(1).id, "probe", 1000)).toBe(true);
      await deps.devices.releaseLease(device(1).id, "probe");
      expect(await deps.devices.get(device(0).id)).toMatchObject({
        status: "UNKNOWN",
        keyGeneration: before,
      });
      expect((await device(0).readAuthorizedKeys()).toString()).toBe(`${held.authorizedKey}\n`);
    } finally {
      await device(1).resetHome(`${held.authorizedKey}\n`);
    }
  });

  it("issue 12.1: the fan-out stops once more devices failed than tolerated", async () => {
    const held = (await deps.keys.loadGenerations())[0]?.key as KeyPair;
    for (const d of fleet.devices) await d.resetHome(`${held.authorizedKey}\n`);
    await device(0).stop();
    await device(1).stop();
    try {
      const run = await (
        await runner.start("rotate", `rotate-${++counter}`, {
          algorithm: "ed25519",
          canary: 0,
          concurrency: 1,
          toleratedFailurePercentage: 0,
        })
      ).done;
      expect(run).toMatchObject({ status: "FAILED", error: "Keyheal.ToleratedFailuresExceeded" });
      // One device at a time and none tolerated: the first failure stops the fan-out.
      expect(run.progress).toMatchObject({ total: 2, failed: 1 });
      const failures = await Promise.all(
        [0, 1].map(async (i) => (await deps.failures.list({ deviceId: device(i).id })).items),
      );
      expect(failures.flat().filter((f) => f.runId?.includes(`rotate-${counter}`))).toHaveLength(1);
      for (const i of [0, 1]) {
        expect((await deps.devices.get(device(i).id))?.status).not.toBe("RESOLVING");
      }
    } finally {
      await device(0).start();
      await device(1).start();
      await env.register(device(0));
      await env.register(device(1));
    }
  });
});
