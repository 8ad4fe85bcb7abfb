import { chmod } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runNameFor } from "../../../lib/events/run-name.ts";
import { hintFor } from "../../../lib/failures/causes.ts";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import type { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { type Fleet, freePort } from "../../harness/fleet.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

let env: WorkflowEnv;
let fleet: Fleet;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let gen1: KeyPair;
let gen2: KeyPair;
let eventCounter = 0;

const device = (i: number) => env.device(i);
const register: WorkflowEnv["register"] = (d, overrides) => env.register(d, overrides);

async function reconnect(deviceId: string, eventId = `evt-${++eventCounter}`, trigger = "device") {
  const name = runNameFor(deviceId, eventId);
  return runner.start("reconnect", name, { deviceId, eventId, trigger, attempt: 1 });
}

async function failuresOf(deviceId: string) {
  return (await deps.failures.list({ deviceId })).items;
}

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "wf",
    devices: 3,
    local: { sshTimeouts: { handshakeMs: 1500, connectMs: 1500 } },
    runner: { waitTimeOverrides: { RecheckPause: 0 } },
  });
  ({ fleet, deps, runner } = env);
  gen1 = generateKeyPair({ comment: "gen1" });
  gen2 = generateKeyPair({ comment: "gen2" });
  await deps.keys.add(gen1);
  await deps.keys.add(gen2);
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  for (const d of fleet.devices) {
    await d.resetHome(`# kept\n${gen1.authorizedKey}\n`);
    await register(d);
    await deps.devices.update(d.id, {
      status: "UNKNOWN",
      lastFailureCause: null,
      keyGeneration: null,
    });
  }
  for (const d of fleet.devices) await deps.failures.deleteMany({ deviceId: d.id });
});

describe("reconnect workflow", () => {
  it("heals a key conflict end to end: the device ends KEY_BASED on the current generation", async () => {
    const { done } = await reconnect(device(0).id);
    const run = await done;
    expect(run.status).toBe("SUCCEEDED");
    expect(run.steps.map((s) => s.name)).toEqual([
      "AcquireLease",
      "LeaseHeld?",
      "Detect",
      "Conflict?",
      "MarkHealed",
      "ReleaseLease",
      "Recheck?",
      "Healed",
    ]);
    const stored = await deps.devices.get(device(0).id);
    expect(stored).toMatchObject({ status: "KEY_BASED", keyGeneration: 2, lastFailureCause: null });
    expect((await device(0).readAuthorizedKeys()).toString()).toBe(
      `# kept\n${gen2.authorizedKey}\n`,
    );
    expect(await failuresOf(device(0).id)).toEqual([]);
  });

  it("a device already on the current generation is marked KEY_BASED without a write", async () => {
    await device(1).resetHome(`${gen2.authorizedKey}\n`);
    const run = await (await reconnect(device(1).id)).done;
    expect(run.steps.map((s) => s.name)).toContain("MarkHealthy");
    expect(run.steps.map((s) => s.name)).not.toContain("MarkHealed");
    expect(await deps.devices.get(device(1).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
  });

  it("10 duplicate events start one run; 5 concurrent events give one replacement", async () => {
    const duplicates = await Promise.all(
      Array.from({ length: 10 }, () => reconnect(device(2).id, "same-event")),
    );
    expect(duplicates.filter((d) => d.started)).toHaveLength(1);
    await Promise.all(duplicates.map((d) => d.done));

    await device(2).resetHome(`${gen1.authorizedKey}\n`);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => reconnect(device(2).id)));
    const ended = await Promise.all(concurrent.map((c) => c.done));
    const replaced = ended.filter((r) => r.steps.some((s) => s.name === "MarkHealed"));
    expect(replaced).toHaveLength(1);
    for (const r of ended.filter((x) => !replaced.includes(x))) {
      expect(r.steps.at(-1)?.name).toBe("AlreadyInProgress");
      expect(r.status).toBe("SUCCEEDED");
    }
    expect(await deps.devices.get(device(2).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
  });
});

describe("every locally producible cause gives exactly one failure record", () => {
  async function expectOneFailure(
    deviceId: string,
    cause: string,
    operation: string,
    status: string,
  ) {
    const run = await (await reconnect(deviceId)).done;
    expect(run.status).toBe("FAILED");
    const failures = await failuresOf(deviceId);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      cause,
      operation,
      hint: hintFor(cause as never),
      runId: expect.any(String),
    });
    expect(await deps.devices.get(deviceId)).toMatchObject({ status, lastFailureCause: cause });
    return { run, failure: failures[0] };
  }

  it("AUTH_REJECTED: authorized_keys holds no key keyheal knows", async () => {
    await device(0).resetHome(`${generateKeyPair().authorizedKey}\n`);
    await expectOneFailure(device(0).id, "AUTH_REJECTED", "DETECT", "KEY_CONFLICT");
  });

  it("HOST_KEY_MISMATCH: the pinned host key differs", async () => {
    await register(device(0), { hostKeyFingerprint: generateKeyPair().fingerprint });
    await expectOneFailure(device(0).id, "HOST_KEY_MISMATCH", "DETECT", "HOST_KEY_CONFLICT");
  });

  it("CONNECTION_REFUSED: sshd is down; diagnosed by a TCP probe", async () => {
    await device(1).stop();
    try {
      const { run } = await expectOneFailure(
        device(1).id,
        "CONNECTION_REFUSED",
        "DETECT",
        "UNREACHABLE",
      );
      expect(run.steps.map((s) => s.name)).toContain("Diagnose");
    } finally {
      await device(1).start();
      await register(device(1));
    }
  });

  it("TIMEOUT: the port accepts but never speaks SSH", async () => {
    const sockets: import("node:net").Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    try {
      await register(device(0), { port });
      await expectOneFailure(device(0).id, "TIMEOUT", "DETECT", "UNREACHABLE");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it("WRITE_FAILED: ~/.ssh is read-only", async () => {
    await chmod(join(device(0).home, ".ssh"), 0o500);
    await expectOneFailure(device(0).id, "WRITE_FAILED", "REPLACE", "KEY_CONFLICT");
  });

  it("SSH_CONFIG_MODIFIED: sshd reads another AuthorizedKeysFile; the write is rolled back", async () => {
    await register(device(0), { authorizedKeysPath: ".ssh/authorized_keys_elsewhere" });
    await expectOneFailure(device(0).id, "SSH_CONFIG_MODIFIED", "VERIFY", "KEY_CONFLICT");
  });

  it("AUTHORIZED_KEYS_UNPARSEABLE: a line holding an old key cannot be parsed; the new key stays", async () => {
    const blob = gen1.authorizedKey.split(" ")[1];
    await device(0).resetHome(`${gen1.authorizedKey}\nfrom="10.0.0.1 ssh-ed25519 ${blob} broken\n`);
    await expectOneFailure(device(0).id, "AUTHORIZED_KEYS_UNPARSEABLE", "REPLACE", "KEY_CONFLICT");
    const content = (await device(0).readAuthorizedKeys()).toString();
    expect(content).toContain(gen2.authorizedKey);
    expect(content).toContain(`from="10.0.0.1 ssh-ed25519 ${blob} broken`);
  });

  it("INTERNAL: an event for a device nobody registered", async () => {
    const run = await (await reconnect("never-registered")).done;
    expect(run.status).toBe("FAILED");
    const failures = await failuresOf("never-registered");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.cause).toBe("INTERNAL");
    expect(failures[0]?.message).toContain("not registered");
  });
});
