import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import type { LocalHandler, LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import type { TestDevice } from "../../harness/fleet.ts";
import { logsInWith } from "../../harness/login.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

/**
 * The device lease under contention: a run whose lease ran out cannot write over the run that
 * took the device, and an event that lost the lease to a run that then failed is not lost.
 * Gates around the real handlers pause runs at chosen states; every device is a real sshd.
 */

const LEASE_MS = 2000;
type Gate = { at: string; owner?: string; reached: () => void; open: Promise<void> };

let env: WorkflowEnv;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let d: TestDevice;
let gen1: KeyPair;
let counter = 0;
let gates: Gate[] = [];
let onAcquired: (owner: string, output: { acquired?: boolean }) => void = () => {};

/** Pauses the next call of `state` (by `owner`, if given) until the returned `open` is called. */
function gate(state: string, owner?: string) {
  let reached!: () => void;
  let open!: () => void;
  const hit = new Promise<void>((r) => {
    reached = r;
  });
  const opened = new Promise<void>((r) => {
    open = r;
  });
  gates.push({ at: state, ...(owner ? { owner } : {}), reached, open: opened });
  return { hit, open };
}

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "lease",
    devices: 1,
    local: { leaseTtlMs: LEASE_MS, sshTimeouts: { handshakeMs: 1500, connectMs: 1500 } },
    runner: {
      waitTimeOverrides: { RecheckPause: 0 },
      wrap: ({ stateName }, handler): LocalHandler => {
        return async (input) => {
          const owner = (input as { owner?: string }).owner;
          const i = gates.findIndex((g) => g.at === stateName && (!g.owner || g.owner === owner));
          const found = gates[i];
          if (found) {
            gates.splice(i, 1);
            found.reached();
            await found.open;
          }
          const output = await handler(input);
          if (stateName === "AcquireLease") onAcquired(owner ?? "", output as never);
          return output;
        };
      },
    },
  });
  ({ deps, runner } = env);
  d = env.device(0);
  gen1 = generateKeyPair();
  await deps.keys.add(gen1);
  await deps.keys.add(generateKeyPair());
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  gates = [];
  onAcquired = () => {};
  await d.resetHome(`${gen1.authorizedKey}\n`);
  await env.register(d);
  await deps.devices.update(d.id, { status: "KEY_CONFLICT", keyGeneration: 1 });
  await deps.failures.deleteMany({ deviceId: d.id });
});

function reconnect(name: string) {
  return runner.start("reconnect", name, { deviceId: d.id, trigger: "device", attempt: 1 });
}

describe("device lease", () => {
  it("issue 10.13: a run whose lease expired and was taken over cannot write the device's status; the refusal is recorded", async () => {
    const stale = `stale-${++counter}`;
    const fresh = `fresh-${counter}`;
    const staleMark = gate("MarkHealed", stale);
    const a = await reconnect(stale);
    await staleMark.hit; // healed and verified, about to write KEY_BASED
    await sleep(LEASE_MS + 300);

    const freshDetect = gate("Detect", fresh);
    const b = await reconnect(fresh);
    await freshDetect.hit; // b holds the lease now
    staleMark.open();
    const staleRun = await a.done;

    expect(staleRun.status).toBe("FAILED");
    // Detect recorded the generation it installed and proved while the stale run held the lease;
    // the status the stale run would have written after losing it was refused.
    expect(await deps.devices.get(d.id)).toMatchObject({
      status: "RESOLVING",
      keyGeneration: 2,
      lastFailureCause: null,
    });
    const { items } = await deps.failures.list({ deviceId: d.id });
    expect(items).toHaveLength(1);
    expect(items[0]?.runId).toContain(stale);
    expect(items[0]?.message).toContain(`Run ${stale} no longer holds the lease`);

    freshDetect.open();
    const freshRun = await b.done;
    expect(freshRun.status).toBe("SUCCEEDED");
    expect(await deps.devices.get(d.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
  });

  it("issue 10.14: of 5 concurrent events, the run that wins fails while the device is down; it heals once the device is back, with no new event", async () => {
    await d.stop();
    let losers = 0;
    let allLost!: () => void;
    const lost = new Promise<void>((r) => {
      allLost = r;
    });
    onAcquired = (_owner, output) => {
      if (output.acquired === false && ++losers === 4) allLost();
    };
    // The winner detects only once the other four have lost the lease to it.
    const detecting = gate("Detect");
    const runs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => reconnect(`storm-${++counter}-${i}`)),
    );
    await detecting.hit;
    await lost;
    // After its failure the winner asks for the lease once more: hold it there until the device
    // is back, which no event reports.
    const recheck = gate("AcquireLease");
    detecting.open();
    await recheck.hit;
    expect(await deps.devices.get(d.id)).toMatchObject({ status: "UNREACHABLE" });
    await d.start();
    await env.register(d);
    recheck.open();

    const ended = await Promise.all(runs.map((r) => r.done));
    const winners = ended.filter((r) => r.steps.some((s) => s.name === "Detect"));
    expect(winners).toHaveLength(1);
    const names = winners[0]?.steps.map((s) => s.name) ?? [];
    expect(names.filter((n) => n === "RecheckPause")).toHaveLength(1);
    expect(names.filter((n) => n === "MarkHealed")).toHaveLength(1);
    expect(winners[0]?.status).toBe("SUCCEEDED");
    for (const r of ended.filter((x) => x !== winners[0])) {
      expect(r.steps.at(-1)?.name).toBe("AlreadyInProgress");
    }
    expect(await deps.devices.get(d.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
    const { items } = await deps.failures.list({ deviceId: d.id });
    expect(items.map((f) => f.cause)).toEqual(["CONNECTION_REFUSED"]);
  });

  // Last: the rotation makes a new generation for the tests after it.
  it("issue 12: a rotation's Install meets a device a reconnect run holds: BUSY, and that run checks the device again and heals it to the new generation", async () => {
    // The reconnect run takes the lease and waits at Detect while the rotation runs.
    const detecting = gate("Detect");
    const held = await reconnect(`held-${++counter}`);
    await detecting.hit;
    const rotation = await (
      await runner.start("rotate", `rotate-${++counter}`, { algorithm: "ed25519", canary: 0 })
    ).done;
    expect(rotation.status, `${rotation.error}: ${rotation.cause}`).toBe("SUCCEEDED");
    const generation = (rotation.output as { key: { generation: number } }).key.generation;
    const installs = rotation.steps.filter((step) => step.name === "Install");
    expect(installs).toHaveLength(1);
    expect(rotation.steps.map((step) => step.name)).toContain("Busy");
    expect(rotation.steps.map((step) => step.name)).not.toContain("MarkInstalled");
    // The rotation left the holder a request to check again; the device is untouched so far.
    expect(await deps.devices.get(d.id)).toMatchObject({ keyGeneration: 1 });

    detecting.open();
    const ended = await held.done;
    expect(ended.status).toBe("SUCCEEDED");
    expect(ended.steps.filter((step) => step.name === "RecheckPause")).toHaveLength(1);
    expect(await deps.devices.get(d.id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: generation,
    });
    const [current] = await deps.keys.loadGenerations();
    expect(current?.generation).toBe(generation);
    expect(await logsInWith(d, current as { generation: number; key: KeyPair })).toBe(true);
  });
});
