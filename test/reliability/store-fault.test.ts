/**
 * The matrix rows around the heal protocol (lease, mark status, record failure) with the store
 * failing for a moment: the first store call the Task makes is refused as an unreachable
 * engine refuses it (ECONNREFUSED), the next ones answer. The reconnect workflow runs on the
 * local runner against the embedded store and a real sshd device. For each cell: the run ends,
 * no lease is left held, the file is never torn, a failure record (if any) names a cause, and
 * the next run converges to KEY_BASED.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import type { LocalHandler } from "../../lib/local/workflow-runner.ts";
import type { TestDevice } from "../harness/fleet.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../harness/workflow-env.ts";
import { printTable } from "./harness.ts";

const gen1 = generateKeyPair({ comment: "store-gen1" });
const gen2 = generateKeyPair({ comment: "store-gen2" });
const ORIGINAL = `${gen1.authorizedKey}\n`;
const HEALED = `${gen2.authorizedKey}\n`;

let env: WorkflowEnv;
let device: TestDevice;
/** The state whose Task sees the store fail once; cleared once the failure was served. */
let failAt: string | undefined;
let failNext = false;
let counter = 0;
const cells: string[][] = [];

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "store-fault",
    devices: 1,
    runner: {
      wrap: ({ stateName }, handler): LocalHandler => {
        return async (input) => {
          if (stateName === failAt) {
            failAt = undefined;
            failNext = true;
          }
          return handler(input);
        };
      },
    },
  });
  device = env.device();
  const client = env.dynamo.client;
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as { send: unknown }).send = (...args: unknown[]) => {
    if (failNext) {
      failNext = false;
      const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), {
        code: "ECONNREFUSED",
        name: "Error",
      });
      return Promise.reject(error);
    }
    return send(...args);
  };
  await env.deps.keys.add(gen1);
  await env.deps.keys.add(gen2);
  await env.register(device);
});

afterAll(async () => {
  printTable(
    "store failing for a moment (reconnect workflow)",
    ["step", "faulted run", "its failure records", "next run"],
    cells,
  );
  await env?.stop();
});

async function reconnect() {
  const id = `store-${++counter}`;
  const { done } = await env.runner.start("reconnect", id, {
    deviceId: device.id,
    eventId: id,
    trigger: "device",
    attempt: 1,
  });
  const run = await done;
  const records = (await env.deps.failures.list({ deviceId: device.id, limit: 100 })).items.filter(
    (f) => f.runId?.split(":").at(-1) === id || f.runId === id,
  );
  return { run, records };
}

async function leaseOwner(): Promise<unknown> {
  const { Item } = await env.dynamo.client.send(
    new GetCommand({ TableName: env.dynamo.tables.devices, Key: { id: device.id } }),
  );
  return Item?.leaseOwner;
}

const CELLS: Array<[string, string, "heal" | "down"]> = [
  ["lease", "AcquireLease", "heal"],
  ["mark status", "MarkHealed", "heal"],
  ["record failure", "RecordFailure", "down"],
];

describe.sequential("the store failing for a moment", () => {
  for (const [step, state, path] of CELLS) {
    it(`at ${step}: the run ends, no lease held, no torn file, the next run converges`, async () => {
      await device.resetHome(ORIGINAL);
      if (path === "down") await device.stop();
      failAt = state;
      const faulted = await reconnect();
      failAt = undefined;
      failNext = false;
      if (path === "down") await device.start();
      expect(faulted.run.status).not.toBe("RUNNING");
      expect(await leaseOwner(), "no lease left held").toBeUndefined();
      const now = (await device.readAuthorizedKeys()).toString();
      expect([ORIGINAL, HEALED, `${ORIGINAL}${gen2.authorizedKey}\n`]).toContain(now);
      expect(faulted.records.length).toBeLessThanOrEqual(1);
      if (path === "down") {
        // The device was down: its record must survive the store's hiccup, naming why.
        expect(faulted.records.map((f) => f.cause)).toEqual(["CONNECTION_REFUSED"]);
      }
      // Re-registered: a restarted sshd may listen on another port.
      await env.register(device);
      const next = await reconnect();
      cells.push([
        step,
        `${faulted.run.status}${faulted.run.error ? ` ${faulted.run.error}` : ""}`,
        faulted.records.map((f) => f.cause).join(",") || "-",
        next.run.status,
      ]);
      expect(next.run.status).toBe("SUCCEEDED");
      expect((await env.deps.devices.get(device.id))?.status).toBe("KEY_BASED");
      expect((await device.readAuthorizedKeys()).toString()).toBe(HEALED);
      expect(await leaseOwner()).toBeUndefined();
    });
  }
});
