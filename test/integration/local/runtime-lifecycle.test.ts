import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceView, FailureView, KeyView, RunView } from "../../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../../lib/events/build.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { type Fleet, freePort, startFleet, type TestDevice } from "../../harness/fleet.ts";
import {
  eventually,
  type RuntimeProcess,
  runRuntimeProcess,
  startRuntimeProcess,
} from "../../harness/local-runtime.ts";

type List<T> = { items: T[]; nextCursor: string | null };

let fleet: Fleet;
let device: TestDevice;
let dataDir: string;
let inventory: string;
/** The runtime of the moment: each test may stop it and start the next on the same directory. */
let runtime: RuntimeProcess;
const gen1 = generateKeyPair({ comment: "gen1" });
/** Filled by the first test, checked after the restart. */
const before: { runId?: string; failureId?: string; token?: string } = {};

async function writeInventory(): Promise<void> {
  await writeFile(
    inventory,
    [
      "devices:",
      `  - id: ${device.id}`,
      `    host: ${device.host}`,
      `    port: ${device.port}`,
      `    adminUser: ${device.user}`,
      `    hostKeyFingerprint: "${device.hostKeyFingerprint}"`,
      "",
    ].join("\n"),
  );
}

async function getDevice(id: string): Promise<DeviceView | undefined> {
  const { items } = (await runtime.api<List<DeviceView>>("GET", "/devices?limit=1000")).body;
  return items.find((d) => d.id === id);
}

async function endedRun(runId: string): Promise<RunView> {
  return eventually(`run ${runId} to end`, async () => {
    const { body } = await runtime.api<RunView>("GET", `/runs/${encodeURIComponent(runId)}`);
    return body.status !== "RUNNING" && body;
  });
}

async function reconnect(deviceId: string): Promise<string> {
  const { status, body } = await runtime.api<{ runId: string }>(
    "POST",
    "/events",
    deviceReconnectedEvent({ deviceId }),
  );
  expect(status).toBe(202);
  return body.runId;
}

async function stopCleanly(): Promise<void> {
  const exit = await runtime.stop();
  expect(exit.code, exit.stderr).toBe(0);
  for (const file of ["api-url", "api-token", "runtime.lock"]) {
    expect(existsSync(join(dataDir, file)), `${file} left behind`).toBe(false);
  }
}

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-local-life-"));
  inventory = `${dataDir}-inventory.yaml`;
  await writeInventory();
  await device.resetHome(`${gen1.authorizedKey}\n`);
  runtime = await startRuntimeProcess({ dataDir, inventory });
});

afterAll(async () => {
  await runtime?.stop();
  await fleet?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (inventory) await rm(inventory, { force: true });
});

describe("the local runtime process", () => {
  it("keeps devices, keys, failures and runs across a restart; the old token stops working", async () => {
    expect(
      (await runtime.api("POST", "/keys/import", { privateKey: gen1.privateKey })).status,
    ).toBe(201);
    await runtime.api("POST", "/devices", {
      id: "ghost",
      host: "127.0.0.1",
      port: await freePort(),
      adminUser: "root",
    });
    before.runId = await reconnect(device.id);
    expect((await endedRun(before.runId)).status).toBe("SUCCEEDED");
    expect((await endedRun(await reconnect("ghost"))).status).toBe("FAILED");
    const failures = (await runtime.api<List<FailureView>>("GET", "/failures")).body.items;
    expect(failures).toHaveLength(1);
    before.failureId = failures[0]?.id;
    before.token = runtime.token;

    await stopCleanly();
    runtime = await startRuntimeProcess({ dataDir });

    expect(await getDevice(device.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 1 });
    expect(await getDevice("ghost")).toMatchObject({
      status: "UNREACHABLE",
      lastFailureCause: "CONNECTION_REFUSED",
    });
    const keys = (await runtime.api<List<KeyView>>("GET", "/keys")).body.items;
    expect(keys).toMatchObject([{ generation: 1, fingerprint: gen1.fingerprint }]);
    const failure = await runtime.api<FailureView>("GET", `/failures/${before.failureId}`);
    expect(failure.body).toMatchObject({ deviceId: "ghost", cause: "CONNECTION_REFUSED" });
    const run = await runtime.api<RunView>("GET", `/runs/${before.runId}`);
    expect(run.body).toMatchObject({ status: "SUCCEEDED", deviceId: device.id });
    expect(run.body.steps.length).toBeGreaterThan(3);

    expect(runtime.token).not.toBe(before.token);
    expect((await runtime.api("GET", "/devices", undefined, { token: before.token })).status).toBe(
      401,
    );
  });

  it("refuses a second runtime on the same data directory, naming the first one's pid and URL", async () => {
    const second = await runRuntimeProcess({ dataDir });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${runtime.pid}`);
    expect(second.stderr).toContain(runtime.url);
    expect(second.stderr).toContain("already using the data directory");
    // The first one is untouched.
    expect((await runtime.api("GET", "/devices")).status).toBe(200);
    expect(existsSync(join(dataDir, "api-url"))).toBe(true);
  });

  it("refuses a bad inventory before touching anything, naming the field", async () => {
    const bad = `${dataDir}-bad.yaml`;
    await writeFile(bad, "devices:\n  - id: x\n    host: h\n    port: 0\n    adminUser: root\n");
    const other = await mkdtemp(join(tmpdir(), "keyheal-local-bad-"));
    try {
      const exit = await runRuntimeProcess({ dataDir: other, inventory: bad });
      expect(exit.code).toBe(2);
      expect(exit.stderr).toContain("devices[0].port");
    } finally {
      await rm(bad, { force: true });
      await rm(other, { recursive: true, force: true });
    }
  });

  it("heals at the next start a device that came back while the runtime was stopped", async () => {
    await device.stop();
    const rotation = await runtime.api<{ runId: string }>("POST", "/keys/rotate", {});
    expect((await endedRun(rotation.body.runId)).status).toBe("SUCCEEDED");
    expect(await getDevice(device.id)).toMatchObject({ status: "UNREACHABLE", keyGeneration: 1 });
    await stopCleanly();

    await device.start();
    await writeInventory(); // its port, should sshd have had to take another
    runtime = await startRuntimeProcess({ dataDir, inventory });
    const healed = await eventually("the device healed after the restart", async () => {
      const d = await getDevice(device.id);
      return d?.status === "KEY_BASED" && d.keyGeneration === 2 && d;
    });
    expect(healed.lastFailureCause).toBeNull();
  });

  it("after a kill mid-run: the lock is taken over, the run ends as interrupted and its device is checked again", async () => {
    // A port that accepts and never speaks: the run waits in the SSH handshake.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      await runtime.api("POST", "/devices", {
        id: "silent",
        host: "127.0.0.1",
        port,
        adminUser: "root",
      });
      const runId = await reconnect("silent");
      await eventually("the run to hold the device", async () => {
        return (await getDevice("silent"))?.status === "RESOLVING" && sockets.length > 0;
      });
      const killed = await runtime.stop("SIGKILL");
      expect(killed.signal).toBe("SIGKILL");
      expect(existsSync(join(dataDir, "runtime.lock"))).toBe(true);

      runtime = await startRuntimeProcess({ dataDir });
      const run = (await runtime.api<RunView>("GET", `/runs/${runId}`)).body;
      expect(run).toMatchObject({ status: "FAILED", error: "Keyheal.Interrupted" });
      expect(run.endedAt).toEqual(expect.any(String));
      expect(runtime.output()).toContain("interrupted runs ended");
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
    // The fresh check started at the start meets a closed port now and records it.
    const recorded = await eventually("the fresh check's failure", async () => {
      const { items } = (await runtime.api<List<FailureView>>("GET", "/failures?deviceId=silent"))
        .body;
      return items.length > 0 && items;
    });
    expect(recorded[0]).toMatchObject({ deviceId: "silent", operation: "DETECT" });
    expect(await getDevice("silent")).not.toMatchObject({ status: "RESOLVING" });
  });

  it("on SIGTERM, stops taking requests and finishes the runs in flight before exiting", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    let runId: string;
    try {
      await runtime.api("POST", "/devices", {
        id: "slow",
        host: "127.0.0.1",
        port,
        adminUser: "root",
      });
      runId = await reconnect("slow");
      await eventually("the run to hold the device", async () => {
        return (await getDevice("slow"))?.status === "RESOLVING" && sockets.length > 0;
      });
      const exit = runtime.stop("SIGTERM");
      await eventually("the API to stop answering", async () => {
        return runtime.api("GET", "/devices").then(
          () => false,
          () => true,
        );
      });
      expect(existsSync(join(dataDir, "runtime.lock")), "still draining").toBe(true);
      // The device hangs up: the run records the failure and ends, then the process exits.
      silent.close();
      for (const socket of sockets) socket.destroy();
      expect((await exit).code).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
    for (const file of ["api-url", "api-token", "runtime.lock"]) {
      expect(existsSync(join(dataDir, file)), `${file} left behind`).toBe(false);
    }
    runtime = await startRuntimeProcess({ dataDir });
    const run = (await runtime.api<RunView>("GET", `/runs/${runId}`)).body;
    expect(run.status).toBe("FAILED");
    expect(run.error).not.toBe("Keyheal.Interrupted");
    const { items } = (await runtime.api<List<FailureView>>("GET", "/failures?deviceId=slow")).body;
    expect(items).toHaveLength(1);
    await stopCleanly();
  });
});
