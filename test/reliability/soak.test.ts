/**
 * The soak: 1,000 reconnect events across 50 real sshd devices through a local runtime's intake
 * (`POST /events`), in 10 rounds of 100: each device once, 10 concurrent second events for a
 * device, 20 redeliveries of an event already sent (duplicates), 20 events for devices coming
 * back once their fault is undone. 30 events a round reach a device with a fault injected:
 * sshd stopped (the device is down), the device restored with the old key only, the old key in
 * an immutable file, or a home that breaks StrictModes. The last round leaves 10 devices
 * faulted. Bounded: 1,000 events, and the whole soak must end within {@link SOAK_LIMIT_MS}.
 *
 * At the end: every device is KEY_BASED, or its last run left exactly one failure record
 * naming its fault's cause; every started run ended, with exactly one failure record when it
 * failed and none when it succeeded, and every duplicate named its first run; no lease is held;
 * the runtime's RSS is stable (the last quarter's peak within 10 % of the first quarter's) and
 * it is the same process from start to end.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceView, FailureView, RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Fleet, startLargeFleet, type TestDevice } from "../harness/fleet.ts";
import { type RuntimeProcess, startRuntimeProcess } from "../harness/local-runtime.ts";
import { type List, registration } from "../harness/runtime-api.ts";
import { run } from "../harness/system.ts";
import { alive, printTable, tableItems } from "./harness.ts";

const MAIN = new URL("./runtime-main.ts", import.meta.url).pathname;
const DEVICES = 50;
const ROUNDS = 10;
const CONCURRENT = 10;
const DUPLICATES = 20;
const FAULTED = 30;
const COMEBACKS = 20;
/**
 * The stated limit: the soak's 1,000 events end within 240 s of wall time, or it fails. Measured
 * at 192 s to 206 s on two cores shared with other test runs (load average about 20), with
 * RecheckPause shortened as below (RELIABILITY.md).
 */
const SOAK_LIMIT_MS = 240_000;
/** How long one round's runs may take to end, and how often the one being waited for is asked. */
const RUN_WAIT_MS = 120_000;
const POLL_MS = 100;
/**
 * The reconnect workflow's pause before checking a device again (30 s in the ASL file): a round
 * waits for its runs, and a device that lost an event to a running run is checked once more
 * after this pause, so the soak would be made of pauses. The recheck itself still runs.
 */
const RECHECK_PAUSE_MS = 500;
/**
 * The test's own bound, well past the stated limit, so a slow soak still ends with every figure
 * and fails on the limit instead of being cut off mid-round.
 */
const SOAK_TEST_BOUND_MS = 600_000;

const gen1 = generateKeyPair({ comment: "soak-gen1" });
const gen2 = generateKeyPair({ comment: "soak-gen2" });
const KEPT = "# kept: a line keyheal does not manage\n";
const ORIGINAL = `${KEPT}${gen1.authorizedKey}\n`;
const HEALED = `${KEPT}${gen2.authorizedKey}\n`;

interface SoakFault {
  name: string;
  /** The cause a run on the faulted device must record; null when the run heals it. */
  cause: string | null;
  apply(device: TestDevice): Promise<void>;
  undo(device: TestDevice): Promise<void>;
}

const FAULTS: SoakFault[] = [
  { name: "down", cause: "CONNECTION_REFUSED", apply: (d) => d.stop(), undo: (d) => d.start() },
  {
    name: "old key back",
    cause: null,
    apply: (d) => d.writeAuthorizedKeys(ORIGINAL),
    undo: async () => {},
  },
  {
    name: "old key, immutable",
    cause: "WRITE_FAILED",
    apply: async (d) => {
      await d.writeAuthorizedKeys(ORIGINAL);
      await run("chattr", ["+i", d.authorizedKeysFile]);
    },
    undo: async (d) => void (await run("chattr", ["-i", d.authorizedKeysFile])),
  },
  {
    name: "StrictModes",
    // Broken before the run: sshd accepts no key at all, so none of keyheal's keys logs in.
    cause: "AUTH_REJECTED",
    apply: (d) => chmod(d.home, 0o777),
    undo: (d) => chmod(d.home, 0o755),
  },
];

let work: string;
let fleet: Fleet;
let runtime: RuntimeProcess;
let startedAt = 0;
const rss: Array<{ at: number; kb: number }> = [];
let sampler: NodeJS.Timeout | undefined;

/** Deterministic choices (a fixed-seed LCG), so a failing soak is replayed as it ran. */
let seed = 13;
function pick<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  for (let i = 0; i < count && pool.length > 0; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    chosen.push(pool.splice(seed % pool.length, 1)[0] as T);
  }
  return chosen;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

interface Sent {
  eventId: string;
  deviceId: string;
  kind: "primary" | "concurrent" | "duplicate" | "comeback";
  outcome: string;
  runId: string;
}
const sent: Sent[] = [];

async function send(
  device: TestDevice,
  kind: Sent["kind"],
  eventId: string = randomUUID(),
): Promise<Sent> {
  const answer = await runtime.api<{ outcome: string; runId: string }>(
    "POST",
    "/events",
    deviceReconnectedEvent({ deviceId: device.id, id: eventId }),
  );
  expect(answer.status, `event ${eventId}`).toBe(202);
  const record = { eventId, deviceId: device.id, kind, ...answer.body };
  sent.push(record);
  return record;
}

const ended = new Map<string, RunView>();
/**
 * Waits for the runs one request at a time, in the order they started (about the order they
 * end): polling each of a round's hundred runs on its own would load the runtime with hundreds
 * of requests a second, more than the runs themselves. Bounded by {@link RUN_WAIT_MS}.
 */
async function waitForRuns(runIds: string[]): Promise<void> {
  const deadline = Date.now() + RUN_WAIT_MS;
  for (const id of new Set(runIds)) {
    while (!ended.has(id)) {
      const { body } = await runtime.api<RunView>("GET", `/runs/${encodeURIComponent(id)}`);
      if (body.status !== "RUNNING") ended.set(id, body);
      else if (Date.now() > deadline)
        throw new Error(`run ${id} still RUNNING after ${RUN_WAIT_MS} ms`);
      else await setTimeout(POLL_MS);
    }
  }
}

async function allFailures(): Promise<FailureView[]> {
  const found: FailureView[] = [];
  let cursor: string | null = null;
  // Bounded: 1,000 events leave fewer than 1,000 records, 100 a page.
  for (let page = 0; page < 20; page++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const { body } = await runtime.api<List<FailureView>>("GET", `/failures?limit=100${query}`);
    found.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return found;
}

const runOfRecord = (f: FailureView) => f.runId?.split(":").at(-1) ?? "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keyheal-soak-"));
  fleet = await startLargeFleet(DEVICES);
  await Promise.all(fleet.devices.map((d) => d.resetHome(ORIGINAL)));
  runtime = await startRuntimeProcess({
    dataDir: join(work, "data"),
    main: [MAIN],
    extraArgs: ["--recheck-pause", String(RECHECK_PAUSE_MS)],
  });
  for (const key of [gen1, gen2]) {
    expect((await runtime.api("POST", "/keys/import", { privateKey: key.privateKey })).status).toBe(
      201,
    );
  }
  const registered = await runtime.api("POST", "/devices", {
    devices: fleet.devices.map(registration),
  });
  expect(registered.status).toBe(200);
  rss.push({ at: Date.now(), kb: rssKb(runtime.pid) });
  sampler = setInterval(() => {
    if (alive(runtime.pid)) rss.push({ at: Date.now(), kb: rssKb(runtime.pid) });
  }, 200);
}, 180_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  await runtime?.stop();
  for (const d of fleet?.devices ?? []) {
    await run("chattr", ["-i", d.authorizedKeysFile]).catch(() => {});
  }
  await fleet?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.sequential("the soak", () => {
  /** Per device, the fault its last round left on it (the final state the checks expect). */
  const lastFault = new Map<string, SoakFault | undefined>();
  /** Per device, the runs started for it in the last round. */
  const lastRuns = new Map<string, string[]>();

  it(
    "1,000 reconnect events across 50 sshd devices: duplicates, concurrent events, faults, devices down and back",
    async () => {
      startedAt = Date.now();
      for (let round = 1; round <= ROUNDS; round++) {
        const last = round === ROUNDS;
        // The last round leaves 10 devices faulted (the final state); others 30, undone after.
        const faulted = pick(fleet.devices, last ? 10 : FAULTED);
        const faultOf = new Map<TestDevice, SoakFault>();
        faulted.forEach(
          (d, i) => void faultOf.set(d, FAULTS[(i + round) % FAULTS.length] as SoakFault),
        );
        await Promise.all([...faultOf].map(([d, f]) => f.apply(d)));

        // Each device once; 10 of them a second event at the same moment (the final round
        // keeps those on healthy devices, so each faulted device has exactly one last run).
        const healthy = fleet.devices.filter((d) => !faultOf.has(d));
        const pairs = pick(last ? healthy : fleet.devices, CONCURRENT);
        const firsts = await Promise.all([
          ...fleet.devices.map((d) => send(d, "primary")),
          ...pairs.map((d) => send(d, "concurrent")),
        ]);
        // Redeliveries of events of this round, some while their runs are still going.
        const dups = await Promise.all(
          pick(firsts, DUPLICATES).map((s) =>
            send(
              fleet.devices.find((d) => d.id === s.deviceId) as TestDevice,
              "duplicate",
              s.eventId,
            ),
          ),
        );
        await waitForRuns([...firsts, ...dups].map((s) => s.runId));

        // Devices come back: faults undone (sshd started again) and a reconnect for 20 of them.
        let comebacks: Sent[] = [];
        if (!last) {
          await Promise.all([...faultOf].map(([d, f]) => f.undo(d)));
          comebacks = await Promise.all(pick(faulted, COMEBACKS).map((d) => send(d, "comeback")));
        } else {
          // The faulted devices are left as they are; 20 healthy ones reconnect once more.
          comebacks = await Promise.all(pick(healthy, COMEBACKS).map((d) => send(d, "comeback")));
          for (const d of fleet.devices) {
            lastFault.set(d.id, faultOf.get(d));
            lastRuns.set(
              d.id,
              [...firsts, ...comebacks].filter((s) => s.deviceId === d.id).map((s) => s.runId),
            );
          }
        }
        await waitForRuns(comebacks.map((s) => s.runId));
        // A device whose sshd came back on another port is registered again at its address.
        if (!last) {
          await runtime.api("POST", "/devices", { devices: fleet.devices.map(registration) });
        }
      }
      const elapsed = Date.now() - startedAt;
      const kinds = (k: Sent["kind"]) => sent.filter((s) => s.kind === k).length;
      console.log(
        `soak: ${sent.length} events (${kinds("primary")} primary, ${kinds("concurrent")} concurrent, ${kinds("duplicate")} duplicates, ${kinds("comeback")} come-backs) in ${(elapsed / 1000).toFixed(1)} s, ${ended.size} runs`,
      );
      expect(sent.length).toBe(1000);
      expect(kinds("duplicate")).toBe(ROUNDS * DUPLICATES);
      expect(elapsed, `the soak's stated limit, ${SOAK_LIMIT_MS} ms`).toBeLessThan(SOAK_LIMIT_MS);
    },
    SOAK_TEST_BOUND_MS,
  );

  it("every device is KEY_BASED or has exactly one open failure record naming its fault's cause", async () => {
    const { body } = await runtime.api<List<DeviceView>>("GET", "/devices?limit=1000");
    const failures = await allFailures();
    const rows: string[][] = [];
    for (const d of fleet.devices) {
      const view = body.items.find((v) => v.id === d.id);
      const fault = lastFault.get(d.id);
      const runs = new Set(lastRuns.get(d.id) ?? []);
      const open = failures.filter((f) => f.deviceId === d.id && runs.has(runOfRecord(f)));
      const expected = fault?.cause ?? null;
      rows.push([
        d.id,
        fault?.name ?? "-",
        view?.status ?? "?",
        open.map((f) => f.cause).join(","),
      ]);
      if (expected === null) {
        expect(view?.status, d.id).toBe("KEY_BASED");
        expect(view?.keyGeneration, d.id).toBe(2);
        expect(open, d.id).toEqual([]);
        if (!fault || fault.name === "old key back") {
          expect((await d.readAuthorizedKeys()).toString(), d.id).toBe(HEALED);
        }
      } else {
        expect(view?.status, d.id).not.toBe("KEY_BASED");
        expect(view?.lastFailureCause, d.id).toBe(expected);
        expect(
          open.map((f) => f.cause),
          d.id,
        ).toEqual([expected]);
      }
    }
    printTable(
      "soak: the devices the last round left faulted",
      ["device", "fault", "status", "open failure"],
      rows.filter((r) => r[1] !== "-"),
    );
  });

  it("no record is lost or duplicated: one record per failed attempt of a run, each duplicate its first run", async () => {
    const failures = await allFailures();
    const byRun = new Map<string, FailureView[]>();
    for (const f of failures) byRun.set(runOfRecord(f), [...(byRun.get(runOfRecord(f)) ?? []), f]);
    const started = sent.filter((s) => s.outcome === "started");
    expect(started.length).toBe(1000 - ROUNDS * DUPLICATES);
    expect(new Set(started.map((s) => s.runId)).size).toBe(started.length);
    for (const s of sent.filter((x) => x.kind === "duplicate")) {
      expect(s.outcome, s.eventId).toBe("duplicate");
      expect(s.runId).toBe(sent.find((x) => x.eventId === s.eventId)?.runId);
    }
    let failed = 0;
    let rechecked = 0;
    let recorded = 0;
    for (const s of started) {
      const runView = ended.get(s.runId);
      expect(runView?.status, s.runId).toMatch(/^(SUCCEEDED|FAILED)$/);
      expect(runView?.stepsOmitted, s.runId).toBe(0);
      const steps = runView?.steps ?? [];
      // A run checks its device again when an event lost the lease to it (RecheckPause): each
      // attempt that failed records once, with its attempt number.
      const recordSteps = steps.filter((step) => step.name === "RecordFailure");
      const records = byRun.get(s.runId) ?? [];
      if (runView?.status === "FAILED") failed++;
      if (steps.some((step) => step.name === "RecheckPause")) rechecked++;
      recorded += records.length;
      expect(
        recordSteps.map((step) => step.status),
        `RecordFailure steps of ${s.runId}`,
      ).not.toContain("CAUGHT");
      expect(records.length, `failure records of ${s.runId} (${runView?.status})`).toBe(
        recordSteps.length,
      );
      expect(records.map((f) => f.attempt).sort(), s.runId).toEqual(records.map((_, i) => i + 1));
      if (runView?.status === "FAILED") expect(records.length, s.runId).toBeGreaterThan(0);
    }
    expect(failures.length).toBe(recorded);
    console.log(
      `soak: ${started.length} runs, ${failed} failed, ${rechecked} checked their device again, ${failures.length} failure records`,
    );
  });

  it("the runtime never restarted and its RSS is stable", async () => {
    expect(alive(runtime.pid)).toBe(true);
    expect(runtime.output().split("keyheal local runtime ready").length - 1).toBe(1);
    const during = rss.filter((s) => s.at >= startedAt);
    expect(during.length).toBeGreaterThan(20);
    const quarter = Math.floor(during.length / 4);
    const peak = (xs: typeof rss) => Math.max(...xs.map((s) => s.kb));
    const first = peak(during.slice(0, quarter));
    const lastQ = peak(during.slice(-quarter));
    console.log(
      `soak: runtime pid ${runtime.pid}, RSS peak ${first} kB in the first quarter, ${lastQ} kB in the last (${during.length} samples)`,
    );
    expect(lastQ).toBeLessThanOrEqual(first * 1.1);
  });

  it("no lease is held once the runs have ended", async () => {
    const pid = runtime.pid;
    await runtime.stop();
    expect(alive(pid)).toBe(false);
    const devices = (await tableItems(runtime.dataDir)).filter(
      (item) => typeof item.id === "string" && fleet.devices.some((d) => d.id === item.id),
    );
    expect(devices.length).toBe(DEVICES);
    const held = devices.filter((item) => item.leaseOwner !== undefined);
    expect(held.map((item) => `${String(item.id)} ${String(item.leaseOwner)}`)).toEqual([]);
  });
});
