/**
 * Reconnect → KEY_BASED: devices hold the previous generation; one after another, a
 * `Device Reconnected` event goes to the runtime's API and the device is polled until KEY_BASED.
 * The SSH time of the same heal is the raw script's (bench/rotate/raw-heal.ts) on the same device;
 * what keyheal adds is the difference.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient } from "../../lib/cli/api-client.ts";
import type { RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import type { KeyPair } from "../../lib/keys/types.ts";
import { FOREIGN_LINES, startBenchFleet } from "./fleet.ts";
import { startRuntime, writeInventory } from "./methods.ts";
import { rawHeal, timedSession } from "./raw-heal.ts";

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface ReconnectFigures {
  samples: number;
  latency: Percentiles;
  ssh: Percentiles;
  overhead: Percentiles;
  /** One command on an open connection (sshd's session and the login shell's start). */
  session: Percentiles;
  /**
   * Where a reconnect's time goes, p50 in ms over the samples, from the run's own record: the
   * event's intake until the run started, each step, the gaps between steps, and the time from
   * the run's KEY_BASED write (MarkHealed's end) until the bench saw it.
   */
  breakdown: { part: string; p50: number }[];
}

const POLL_MS = 2;

function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95) };
}

export async function measureReconnect(count: number, work: string): Promise<ReconnectFigures> {
  const fleet = await startBenchFleet(count, work);
  const previous = generateKeyPair({ comment: "previous" });
  const current = generateKeyPair({ comment: "current" });
  await fleet.reset(previous);
  const inventory = join(work, "reconnect-fleet.json");
  await writeInventory(fleet, inventory);
  const runtime = await startRuntime(join(work, "reconnect-data"), inventory);
  try {
    const api = new ApiClient({
      baseUrl: (await readFile(join(runtime.dataDir, "api-url"), "utf8")).trim(),
      token: (await readFile(join(runtime.dataDir, "api-token"), "utf8")).trim(),
      source: runtime.dataDir,
    });
    // Generation 1 is what the devices hold; generation 2, imported next, is current.
    await api.importKey({ privateKey: previous.privateKey });
    await api.importKey({ privateKey: current.privateKey });
    const latency: number[] = [];
    const parts = new Map<string, number[]>();
    const add = (part: string, ms: number) => parts.set(part, [...(parts.get(part) ?? []), ms]);
    for (const [i, _device] of fleet.devices.entries()) {
      const id = `bench-${i}`;
      const postedAt = Date.now();
      const started = performance.now();
      const answer = await api.postEvent(deviceReconnectedEvent({ deviceId: id, reason: "bench" }));
      const deadline = started + 60_000;
      while (performance.now() < deadline) {
        // One device by its id: the listing of every KEY_BASED device grows with each sample.
        const page = await api.listDevices({ status: "KEY_BASED", search: id });
        if (page.items.some((d) => d.id === id)) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const elapsed = performance.now() - started;
      const seenAt = postedAt + elapsed;
      if (elapsed >= 60_000) throw new Error(`${id} did not become KEY_BASED within 60 s`);
      latency.push(elapsed);
      if (answer.runId) breakDown(await endedRun(api, answer.runId), postedAt, seenAt, add);
    }
    const ssh: number[] = [];
    const session: number[] = [];
    for (const device of fleet.devices) {
      await device.writeAuthorizedKeys(
        `${FOREIGN_LINES[0]}\n${previous.authorizedKey}\n${FOREIGN_LINES[1]}\n`,
      );
      ssh.push(await timedRawHeal(device, previous, current));
      session.push(await timedSession(rawDevice(device), current.privateKey));
    }
    const overhead = latency.map((l, i) => l - (ssh[i] ?? 0));
    return {
      samples: count,
      latency: percentiles(latency),
      ssh: percentiles(ssh),
      overhead: percentiles(overhead),
      session: percentiles(session),
      breakdown: [...parts].map(([part, ms]) => ({ part, p50: percentiles(ms).p50 })),
    };
  } finally {
    await runtime.stop();
    await fleet.destroy();
  }
}

async function timedRawHeal(
  device: Awaited<ReturnType<typeof startBenchFleet>>["devices"][number],
  previous: KeyPair,
  current: KeyPair,
): Promise<number> {
  const started = performance.now();
  await rawHeal(rawDevice(device), {
    oldPrivateKey: previous.privateKey,
    newPrivateKey: current.privateKey,
    oldBlob: previous.authorizedKey.split(" ")[1] ?? "",
    newLine: current.authorizedKey,
  });
  return performance.now() - started;
}

function rawDevice(device: Awaited<ReturnType<typeof startBenchFleet>>["devices"][number]) {
  return {
    host: device.host,
    port: device.port,
    user: device.user,
    path: device.authorizedKeysFile,
    hostKeyFingerprint: device.hostKeyFingerprint,
  };
}

async function endedRun(api: ApiClient, runId: string): Promise<RunView> {
  for (let i = 0; i < 600; i++) {
    const run = await api.getRun(runId);
    if (run.status !== "RUNNING") return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not end within 60 s`);
}

/** Adds one run's parts: intake, each step, each gap between steps, and until seen. */
function breakDown(
  run: RunView,
  postedAt: number,
  seenAt: number,
  add: (part: string, ms: number) => void,
): void {
  const t = (iso: string) => Date.parse(iso);
  add("event posted → run started", t(run.startedAt) - postedAt);
  let previousEnd = t(run.startedAt);
  for (const step of run.steps) {
    add(`gap before ${step.name}`, t(step.startedAt) - previousEnd);
    const end = step.endedAt ? t(step.endedAt) : previousEnd;
    add(step.name, end - t(step.startedAt));
    previousEnd = end;
    if (step.name === "MarkHealed") add("MarkHealed ended → bench saw KEY_BASED", seenAt - end);
  }
}
