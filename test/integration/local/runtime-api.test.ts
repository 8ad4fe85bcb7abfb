import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeviceView, FailureView, KeyView, RunView } from "../../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../../lib/events/build.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { type Fleet, startFleet, type TestDevice } from "../../harness/fleet.ts";
import {
  eventually,
  type RuntimeProcess,
  startRuntimeProcess,
} from "../../harness/local-runtime.ts";
import {
  deviceOf,
  endedRunOf,
  type List,
  recordThreeFailures,
  registration,
} from "../../harness/runtime-api.ts";

let fleet: Fleet;
let dataDir: string;
let inventory: string;
let runtime: RuntimeProcess;
const password = inject("devicePassword");
const gen1 = generateKeyPair({ comment: "operator-gen1" });
const device = (i: number) => fleet.devices[i] as TestDevice;

const getDevice = (id: string) => deviceOf(runtime, id);

const endedRun = (runId: string) => endedRunOf(runtime, runId);

async function failures(query = ""): Promise<FailureView[]> {
  const { status, body } = await runtime.api<List<FailureView>>("GET", `/failures${query}`);
  expect(status).toBe(200);
  return body.items;
}

function sendReconnect(deviceId: string) {
  return runtime.api<{ outcome: string; runId: string }>(
    "POST",
    "/events",
    deviceReconnectedEvent({ deviceId }),
  );
}

beforeAll(async () => {
  fleet = await startFleet(3);
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-local-api-"));
  // Devices 0 and 1 come from the inventory at start; device 2 is registered over the API.
  inventory = `${dataDir}-inventory.yaml`;
  const entries = [device(0), device(1)].map(
    (d) =>
      `  - id: ${d.id}\n    host: ${d.host}\n    port: ${d.port}\n    adminUser: ${d.user}\n    hostKeyFingerprint: "${d.hostKeyFingerprint}"\n`,
  );
  await writeFile(inventory, `devices:\n${entries.join("")}`);
  runtime = await startRuntimeProcess({ dataDir, inventory });
});

afterAll(async () => {
  const exit = await runtime?.stop();
  await fleet?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (inventory) await rm(inventory, { force: true });
  expect(exit?.code).toBe(0);
});

describe("the ops API on the local runtime", () => {
  it("refuses a missing or wrong token with 401 on every route", async () => {
    for (const [method, path] of [
      ["GET", "/devices"],
      ["POST", "/events"],
      ["GET", "/failures"],
      ["DELETE", "/failures"],
      ["POST", "/keys/rotate"],
      ["GET", "/runs/x"],
    ] as const) {
      const missing = await runtime.api(method, path, undefined, { token: null });
      expect(missing.status, `${method} ${path} without a token`).toBe(401);
      const wrong = await runtime.api(method, path, undefined, { token: `${runtime.token}x` });
      expect(wrong.status, `${method} ${path} with a wrong token`).toBe(401);
    }
    expect((await runtime.api("GET", "/failures")).status).toBe(200);
  });

  it("writes its URL and a private token to the data directory", async () => {
    expect(runtime.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stat(join(dataDir, "api-token"))).mode & 0o777).toBe(0o600);
    expect(runtime.output()).toContain(runtime.url);
  });

  it("imports the inventory at start, registers more devices, lists them by status", async () => {
    const listed = await runtime.api<List<DeviceView>>("GET", "/devices");
    expect(listed.body.items.map((d) => d.id).sort()).toEqual([device(0).id, device(1).id]);
    expect(listed.body.items[0]).toMatchObject({ status: "UNKNOWN", keyGeneration: null });

    const registered = await runtime.api<{ items: DeviceView[] }>("POST", "/devices", {
      devices: [registration(device(2))],
    });
    expect(registered.status).toBe(200);
    expect(registered.body.items[0]).toMatchObject({
      id: device(2).id,
      port: device(2).port,
      status: "UNKNOWN",
      hostKeyFingerprint: device(2).hostKeyFingerprint,
      lastFailureCause: null,
    });

    const first = await runtime.api<List<DeviceView>>("GET", "/devices?status=UNKNOWN&limit=2");
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await runtime.api<List<DeviceView>>(
      "GET",
      `/devices?status=UNKNOWN&limit=2&cursor=${encodeURIComponent(first.body.nextCursor ?? "")}`,
    );
    expect(rest.body).toMatchObject({ nextCursor: null });
    expect([...first.body.items, ...rest.body.items].map((d) => d.id).sort()).toEqual(
      fleet.devices.map((d) => d.id).sort(),
    );
    const keyBased = await runtime.api<List<DeviceView>>("GET", "/devices?status=KEY_BASED");
    expect(keyBased.body.items).toEqual([]);
  });

  it("answers bad requests with 400 naming the field, and never echoes a secret", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      [
        "POST",
        "/devices",
        { devices: [{ ...registration(device(0)), port: 70_000 }] },
        "devices[0].port",
      ],
      ["POST", "/devices", { id: "x", host: "h", adminUser: "root", adminuser: "r" }, "adminuser"],
      ["GET", "/devices?status=HEALTHY", undefined, "status"],
      ["GET", "/failures?limit=0", undefined, "limit"],
      ["GET", "/failures?cause=NOT_A_CAUSE", undefined, "cause"],
      ["GET", "/failures?since=yesterday", undefined, "since"],
      ["GET", "/failures?since=1h&until=2h", undefined, "since"],
      ["POST", "/keys/rotate", { type: "dsa" }, "type"],
      ["POST", "/keys/import", { privateKey: "not a key" }, "privateKey"],
      ["POST", "/devices/resolve", { mode: "space-key", devices: [], password: "x" }, "devices"],
      ["POST", "/devices/resolve", { mode: "telepathy" }, "mode"],
      [
        "POST",
        "/events",
        { ...deviceReconnectedEvent({ deviceId: "ok" }), detail: { deviceId: "has space" } },
        "detail.deviceId",
      ],
      ["POST", "/events", { hello: "world" }, "version"],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await runtime.api<{ error: string; field: string }>(method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.body).toMatchObject({ error: "BadRequest", field });
    }
    const secret = `S3cret-${randomBytes(4).toString("hex")}`;
    const echoed = await runtime.api("POST", "/keys/import", {
      privateKey: secret,
      passphrase: secret,
    });
    expect(echoed.status).toBe(400);
    expect(JSON.stringify(echoed.body)).not.toContain(secret);
    expect((await runtime.api("GET", "/failures/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
    expect((await runtime.api("GET", "/runs/no-such-run")).status).toBe(404);
    expect((await runtime.api("GET", "/nowhere")).status).toBe(404);
    expect((await runtime.api("PUT", "/devices")).status).toBe(405);
  });

  it("heals a device that comes back holding the old key: import, rotate while it is down, the probe sees it return", async () => {
    const imported = await runtime.api<KeyView>("POST", "/keys/import", {
      privateKey: gen1.privateKey,
    });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({
      generation: 1,
      fingerprint: gen1.fingerprint,
      status: "CURRENT",
    });
    expect(JSON.stringify(imported.body)).not.toContain("PRIVATE KEY");
    for (const d of fleet.devices) await d.resetHome(`# kept\n${gen1.authorizedKey}\n`);

    await device(0).stop();
    const rotation = await runtime.api<{ runId: string }>("POST", "/keys/rotate", {
      type: "ed25519",
    });
    expect(rotation.status).toBe(202);
    expect(await endedRun(rotation.body.runId)).toMatchObject({
      workflow: "rotate",
      status: "SUCCEEDED",
    });
    const keys = (await runtime.api<List<KeyView>>("GET", "/keys")).body.items;
    expect(keys.map((k) => [k.generation, k.status])).toEqual([
      [2, "CURRENT"],
      [1, "PREVIOUS"],
    ]);
    const gen2 = keys[0] as KeyView;
    expect(await getDevice(device(0).id)).toMatchObject({
      status: "UNREACHABLE",
      lastFailureCause: "CONNECTION_REFUSED",
    });
    expect(await getDevice(device(1).id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });

    // Back (on whatever port it got): the probe loop sees it answer and sends Device Reconnected.
    await device(0).start();
    await runtime.api("POST", "/devices", registration(device(0)));
    const healed = await eventually("device 0 healed by the probe loop", async () => {
      const d = await getDevice(device(0).id);
      return d?.status === "KEY_BASED" && d;
    });
    expect(healed).toMatchObject({ keyGeneration: 2, lastFailureCause: null });
    expect((await device(0).readAuthorizedKeys()).toString()).toBe(`# kept\n${gen2.publicKey}\n`);
    expect(runtime.output()).toContain("device reconnected");

    // A device that holds the old key again (restored from a backup): healed through POST /events.
    await device(1).resetHome(`${gen1.authorizedKey}\n`);
    const event = await sendReconnect(device(1).id);
    expect(event.status).toBe(202);
    expect(event.body.outcome).toBe("started");
    expect(await endedRun(event.body.runId)).toMatchObject({
      status: "SUCCEEDED",
      deviceId: device(1).id,
    });
    expect(await getDevice(device(1).id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
    expect((await device(1).readAuthorizedKeys()).toString()).toBe(`${gen2.publicKey}\n`);

    const ignored = await sendReconnect("never-registered");
    expect(ignored).toMatchObject({ status: 202, body: { outcome: "ignored", runId: null } });
  });

  it("resolves a device by its admin password without the password reaching any run or log", async () => {
    await device(2).resetHome(`${generateKeyPair({ comment: "someone-else" }).authorizedKey}\n`);
    const started = await runtime.api<{ runs: Array<{ deviceId: string; runId: string }> }>(
      "POST",
      "/devices/resolve",
      { mode: "space-key", devices: [{ id: device(2).id, adminUser: device(2).user }], password },
    );
    expect(started.status).toBe(202);
    expect(started.body.runs).toEqual([{ deviceId: device(2).id, runId: expect.any(String) }]);
    expect(started.body).toMatchObject({ jobId: expect.stringMatching(/^job-/) });
    const run = await endedRun(started.body.runs[0]?.runId ?? "");
    expect(run.status).toBe("SUCCEEDED");
    expect(await getDevice(device(2).id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
    expect(JSON.stringify(run)).not.toContain(password);
    expect(runtime.output()).not.toContain(password);
    // The run forgot its short-lived secret.
    const secrets = await readdir(join(dataDir, "secrets"));
    expect(secrets.filter((name) => name.startsWith("resolve"))).toEqual([]);
    const unknown = await runtime.api("POST", "/devices/resolve", {
      mode: "space-key",
      devices: [{ id: "nobody", adminUser: "root" }],
      password,
    });
    expect(unknown.status).toBe(404);
  });

  it("lists, filters, shows, retries and deletes failures", async () => {
    await recordThreeFailures(runtime, device(2));

    const all = await failures();
    expect(all.map((f) => [f.deviceId, f.cause]).sort()).toEqual([
      ["ghost-a", "CONNECTION_REFUSED"],
      ["ghost-b", "CONNECTION_REFUSED"],
      ["impostor", "HOST_KEY_MISMATCH"],
    ]);
    expect(all[0]).toMatchObject({
      id: expect.any(String),
      operation: expect.any(String),
      message: expect.any(String),
      hint: expect.any(String),
      attempt: 1,
      runId: expect.any(String),
      occurredAt: expect.any(String),
    });
    expect(all[0]).toHaveProperty("keyGeneration");
    expect((await failures("?deviceId=ghost-a")).map((f) => f.deviceId)).toEqual(["ghost-a"]);
    expect((await failures("?cause=HOST_KEY_MISMATCH")).map((f) => f.deviceId)).toEqual([
      "impostor",
    ]);
    expect(await failures("?deviceId=ghost-a&cause=HOST_KEY_MISMATCH")).toEqual([]);
    expect(await failures("?since=1h")).toHaveLength(3);
    expect(await failures(`?until=${encodeURIComponent("2020-01-01T00:00:00Z")}`)).toEqual([]);
    const page = await runtime.api<List<FailureView>>("GET", "/failures?limit=2");
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));

    const target = (await failures("?deviceId=ghost-a"))[0] as FailureView;
    const shown = await runtime.api<FailureView>("GET", `/failures/${target.id}`);
    expect(shown.body).toEqual(target);
    const itsRun = await runtime.api<RunView>(
      "GET",
      `/runs/${encodeURIComponent(target.runId ?? "")}`,
    );
    expect(itsRun.body).toMatchObject({ deviceId: "ghost-a", status: "FAILED" });

    const retry = await runtime.api<{ runId: string }>("POST", `/failures/${target.id}/retry`);
    expect(retry.status).toBe(202);
    expect(await endedRun(retry.body.runId)).toMatchObject({
      workflow: "reconnect",
      deviceId: "ghost-a",
    });
    const marked = await runtime.api<FailureView>("GET", `/failures/${target.id}`);
    expect(marked.body.retriedByRunId).toBe(retry.body.runId);
    expect((await failures("?deviceId=ghost-a")).map((f) => f.attempt)).toEqual([2, 1]);

    expect((await runtime.api("DELETE", `/failures/${target.id}`)).body).toEqual({ deleted: 1 });
    expect((await runtime.api("DELETE", `/failures/${target.id}`)).status).toBe(404);
    expect((await runtime.api("POST", `/failures/${target.id}/retry`)).status).toBe(404);
    expect((await runtime.api("DELETE", "/failures?deviceId=ghost-b")).body).toEqual({
      deleted: 1,
      more: false,
    });
    expect((await failures()).map((f) => f.deviceId).sort()).toEqual(["ghost-a", "impostor"]);
    expect((await runtime.api("DELETE", "/failures")).body).toEqual({ deleted: 2, more: false });
    expect(await failures()).toEqual([]);
  });
});
