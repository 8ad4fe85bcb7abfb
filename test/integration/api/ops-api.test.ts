import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type {
  DeviceView,
  FailureView,
  JobView,
  KeyView,
  RunView,
} from "../../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../../lib/events/build.ts";
import { generateKeyPair, importPrivateKey } from "../../../lib/keys/index.ts";
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

type Stats = {
  since: string | null;
  until: string | null;
  deviceId: string | null;
  total: number;
  items: Array<{ cause: string; count: number; hint: string }>;
};

let fleet: Fleet;
let dataDir: string;
let runtime: RuntimeProcess;
const password = inject("devicePassword");
const gen1 = generateKeyPair({ comment: "operator-gen1" });
const device = (i: number) => fleet.devices[i] as TestDevice;

const getDevice = (id: string) => deviceOf(runtime, id);

const endedRun = (runId: string) => endedRunOf(runtime, runId);

async function stats(query = ""): Promise<Stats> {
  const { status, body } = await runtime.api<Stats>("GET", `/failures/stats${query}`);
  expect(status).toBe(200);
  return body;
}

beforeAll(async () => {
  fleet = await startFleet(3);
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-ops-api-"));
  runtime = await startRuntimeProcess({ dataDir, probeInterval: "0" });
  await runtime.api("POST", "/devices", { devices: fleet.devices.map(registration) });
  expect((await runtime.api("POST", "/keys/import", { privateKey: gen1.privateKey })).status).toBe(
    201,
  );
});

afterAll(async () => {
  const exit = await runtime?.stop();
  await fleet?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  expect(exit?.code).toBe(0);
});

describe("the ops API's operator features", () => {
  it("reports a rotation's fan-out progress: devices given, ended, not installed", async () => {
    for (const d of fleet.devices) await d.resetHome(`${gen1.authorizedKey}\n`);
    await device(2).stop();
    try {
      const { body } = await runtime.api<{ runId: string }>("POST", "/keys/rotate", {});
      const run = await endedRun(body.runId);
      expect(run.status).toBe("SUCCEEDED");
      expect(run.progress).toEqual({ total: 3, done: 3, failed: 1 });
      const installed = fleet.devices.slice(0, 2).map((d) => getDevice(d.id));
      for (const d of await Promise.all(installed)) {
        expect(d).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
      }
      // A run with no Map has no progress to report.
      const detect = await runtime.api<{ runId: string }>(
        "POST",
        "/events",
        deviceReconnectedEvent({ deviceId: device(0).id }),
      );
      expect((await endedRun(detect.body.runId)).progress).toBeNull();
    } finally {
      await device(2).start();
      await runtime.api("POST", "/devices", registration(device(2)));
    }
  });

  it("shows a rotation's progress while one device still holds it up", async () => {
    // Device 1's sshd is paused: its connection waits in the listen backlog, its iteration hangs.
    const pid = Number((await readFile(join(device(1).dir, "sshd.pid"), "utf8")).trim());
    process.kill(pid, "SIGSTOP");
    let resumed = false;
    const resume = () => {
      if (!resumed) process.kill(pid, "SIGCONT");
      resumed = true;
    };
    try {
      // No canary: the paused device must be among the fan-out, not the one that goes first.
      const { body } = await runtime.api<{ runId: string }>("POST", "/keys/rotate", {
        canary: 0,
      });
      const during = await eventually("the others' progress while device 1 hangs", async () => {
        const run = await runtime.api<RunView>("GET", `/runs/${encodeURIComponent(body.runId)}`);
        return run.body.progress?.done === 2 && run.body;
      });
      expect(during.status).toBe("RUNNING");
      expect(during.progress).toEqual({ total: 3, done: 2, failed: 0 });
      resume();
      const ended = await endedRun(body.runId);
      expect(ended.progress).toEqual({ total: 3, done: 3, failed: 0 });
    } finally {
      resume();
    }
  });

  it("resolves many devices, each with its own admin user, as one job with progress", async () => {
    const foreign = generateKeyPair({ comment: "changed-by-hand" });
    await device(0).resetHome(`${foreign.authorizedKey}\n`);
    await device(1).resetHome(`${foreign.authorizedKey}\n`);
    await device(2).stop();
    try {
      const started = await runtime.api<{
        jobId: string;
        runs: Array<{ deviceId: string; runId: string }>;
      }>("POST", "/devices/resolve", {
        mode: "space-key",
        devices: [0, 1, 2].map((i) => ({ id: device(i).id, adminUser: device(i).user })),
        password,
      });
      expect(started.status).toBe(202);
      expect(started.body.jobId).toMatch(/^job-[0-9A-Z]{26}$/);
      expect(started.body.runs.map((r) => r.deviceId)).toEqual([0, 1, 2].map((i) => device(i).id));

      const job = await eventually("the job to end", async () => {
        const { body } = await runtime.api<JobView>("GET", `/jobs/${started.body.jobId}`);
        expect(body.total).toBe(3);
        expect(body.succeeded + body.failed + body.running).toBe(3);
        return body.status !== "RUNNING" && body;
      });
      expect(job).toMatchObject({
        id: started.body.jobId,
        kind: "resolve",
        status: "FAILED",
        total: 3,
        succeeded: 2,
        failed: 1,
        running: 0,
      });
      expect(job.runs.map((r) => [r.deviceId, r.status])).toEqual([
        [device(0).id, "SUCCEEDED"],
        [device(1).id, "SUCCEEDED"],
        [device(2).id, "FAILED"],
      ]);
      expect(await getDevice(device(1).id)).toMatchObject({ status: "KEY_BASED" });
      expect(JSON.stringify(job)).not.toContain(password);
      expect(runtime.output()).not.toContain(password);
    } finally {
      await device(2).start();
      await runtime.api("POST", "/devices", registration(device(2)));
    }
  });

  it("uses each device's own password or key, as the Junos form gives them per device", async () => {
    const foreign = generateKeyPair({ comment: "changed-by-hand" });
    for (const d of fleet.devices) await d.resetHome(`${foreign.authorizedKey}\n`);
    const byPassword = await runtime.api<{ jobId: string }>("POST", "/devices/resolve", {
      mode: "space-key",
      devices: [
        { id: device(0).id, adminUser: device(0).user, password },
        { id: device(1).id, adminUser: device(1).user, password: `${password}-wrong` },
      ],
    });
    expect(byPassword.status).toBe(202);
    const job = await eventually("the password job to end", async () => {
      const { body } = await runtime.api<JobView>("GET", `/jobs/${byPassword.body.jobId}`);
      return body.status !== "RUNNING" && body;
    });
    expect(job.runs.map((r) => r.status)).toEqual(["SUCCEEDED", "FAILED"]);
    expect(await getDevice(device(1).id)).toMatchObject({ lastFailureCause: "AUTH_REJECTED" });
    const refused = await runtime.api<List<FailureView>>(
      "GET",
      `/failures?deviceId=${device(1).id}&operation=RESOLVE`,
    );
    expect(refused.body.items[0]?.hint).toMatch(
      /refused the admin password or custom key you gave/,
    );

    // Device 2 trusts an operator's key; device 1 another one, protected by a passphrase.
    const custom2 = generateKeyPair({ comment: "operator-2" });
    const custom1 = generateKeyPairSync("ed25519", {
      privateKeyEncoding: {
        type: "pkcs8",
        format: "pem",
        cipher: "aes-256-cbc",
        passphrase: "correct horse",
      },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const custom1Line = importPrivateKey(custom1.privateKey, {
      passphrase: "correct horse",
    }).authorizedKey;
    await device(2).resetHome(`${custom2.authorizedKey}\n`);
    await device(1).resetHome(`${custom1Line}\n`);
    const wrongPassphrase = await runtime.api("POST", "/devices/resolve", {
      mode: "custom-key",
      devices: [
        { id: device(2).id, adminUser: device(2).user, privateKey: custom2.privateKey },
        {
          id: device(1).id,
          adminUser: device(1).user,
          privateKey: custom1.privateKey,
          passphrase: "battery staple",
        },
      ],
    });
    expect(wrongPassphrase).toMatchObject({
      status: 400,
      body: { field: "devices[1].passphrase" },
    });
    const byKey = await runtime.api<{ jobId: string }>("POST", "/devices/resolve", {
      mode: "custom-key",
      devices: [
        { id: device(2).id, adminUser: device(2).user, privateKey: custom2.privateKey },
        {
          id: device(1).id,
          adminUser: device(1).user,
          privateKey: custom1.privateKey,
          passphrase: "correct horse",
        },
      ],
    });
    expect(byKey.status).toBe(202);
    const keyed = await eventually("the key job to end", async () => {
      const { body } = await runtime.api<JobView>("GET", `/jobs/${byKey.body.jobId}`);
      return body.status !== "RUNNING" && body;
    });
    expect(keyed).toMatchObject({ status: "SUCCEEDED", succeeded: 2 });
    for (const i of [1, 2]) {
      expect(await getDevice(device(i).id)).toMatchObject({ status: "KEY_BASED" });
    }
    expect(runtime.output()).not.toContain("correct horse");
  });

  it("counts failures by cause, per device and over a time range", async () => {
    await recordThreeFailures(runtime, device(0));

    const all = await stats();
    expect(all.total).toBe(3);
    expect(all.items.map((i) => [i.cause, i.count])).toEqual([
      ["CONNECTION_REFUSED", 2],
      ["HOST_KEY_MISMATCH", 1],
    ]);
    expect(all.items[0]?.hint).toMatch(/sshd/i);
    expect((await stats("?deviceId=impostor")).items).toEqual([
      expect.objectContaining({ cause: "HOST_KEY_MISMATCH", count: 1 }),
    ]);
    expect((await stats("?since=1h")).total).toBe(3);
    const old = await stats(`?until=${encodeURIComponent("2020-01-01T00:00:00Z")}`);
    expect(old).toMatchObject({ total: 0, items: [], until: "2020-01-01T00:00:00.000Z" });
  });

  it("filters failures by operation", async () => {
    const { body } = await runtime.api<List<FailureView>>("GET", "/failures?operation=DETECT");
    expect(body.items.length).toBeGreaterThan(0);
    expect(new Set(body.items.map((f) => f.operation))).toEqual(new Set(["DETECT"]));
    const rotate = await runtime.api<List<FailureView>>("GET", "/failures?operation=RESOLVE");
    expect(rotate.body.items.every((f) => f.operation === "RESOLVE")).toBe(true);
  });

  it("deletes failures in batches, saying whether more remain", async () => {
    const before = (await stats()).total;
    expect(before).toBeGreaterThanOrEqual(3);
    const first = await runtime.api("DELETE", "/failures?limit=2");
    expect(first.body).toEqual({ deleted: 2, more: true });
    let left = before - 2;
    while (left > 0) {
      const next = await runtime.api<{ deleted: number; more: boolean }>(
        "DELETE",
        "/failures?limit=2",
      );
      left -= next.body.deleted;
      expect(next.body.more).toBe(left > 0);
    }
    expect((await stats()).total).toBe(0);
    expect((await runtime.api("DELETE", "/failures?limit=5")).body).toEqual({
      deleted: 0,
      more: false,
    });
  });

  it("answers bad requests on the new endpoints with 400 naming the field", async () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/failures/stats?since=yesterday", "since"],
      ["GET", "/failures/stats?since=1h&until=2h", "since"],
      ["GET", "/failures/stats?cause=TIMEOUT", "cause"],
      ["GET", "/failures/stats?deviceId=has%20space", "deviceId"],
      ["GET", "/failures?operation=EAT", "operation"],
      ["DELETE", "/failures?limit=0", "limit"],
      ["DELETE", "/failures?limit=5000", "limit"],
      ["DELETE", "/failures?limit=two", "limit"],
      ["DELETE", "/failures?cursor=abc", "cursor"],
    ];
    for (const [method, path, field] of cases) {
      const answer = await runtime.api<{ error: string; field: string }>(method, path);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.body).toMatchObject({ error: "BadRequest", field });
    }
    expect((await runtime.api("GET", "/jobs/job-01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
    expect((await runtime.api("GET", "/jobs/not-a-job")).status).toBe(404);
    expect((await runtime.api("DELETE", "/jobs/job-01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(405);
    expect((await runtime.api("GET", "/jobs/x", undefined, { token: null })).status).toBe(401);
    expect((await runtime.api("GET", "/failures/stats", undefined, { token: null })).status).toBe(
      401,
    );
  });

  it("counts devices by auth status, as the status index lists them", async () => {
    const { status, body } = await runtime.api<{
      total: number;
      items: Array<{ status: string; count: number }>;
    }>("GET", "/devices/stats");
    expect(status).toBe(200);
    expect(body.items).toHaveLength(8);
    const all = await runtime.api<List<DeviceView>>("GET", "/devices?limit=1000");
    expect(body.total).toBe(all.body.items.length);
    for (const item of body.items) {
      const listed = await runtime.api<List<DeviceView>>(
        "GET",
        `/devices?status=${item.status}&limit=1000`,
      );
      expect(item.count, item.status).toBe(listed.body.items.length);
    }
    expect(body.items.find((i) => i.status === "KEY_BASED")?.count).toBeGreaterThan(0);
    const bad = await runtime.api<{ field: string }>("GET", "/devices/stats?status=KEY_BASED");
    expect(bad).toMatchObject({ status: 400, body: { field: "status" } });
  });

  it("serves the console's files without the token, and nothing else without it", async () => {
    const root = await fetch(`${runtime.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console/");
    const page = await fetch(`${runtime.url}/console/`);
    // Built (200) or not built yet (404 saying how): either way no token was asked for.
    expect([200, 404]).toContain(page.status);
    if (page.status === 404) expect(await page.text()).toContain("npm run build:web");
    else expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const outside = await fetch(`${runtime.url}/console/..%2f..%2fpackage.json`);
    expect(outside.status).toBe(404);
    expect(await outside.text()).not.toContain("keyheal");
    expect((await fetch(`${runtime.url}/keys`)).status).toBe(401);
    const keys = await runtime.api<List<KeyView>>("GET", "/keys");
    expect(keys.status).toBe(200);
  });
});
