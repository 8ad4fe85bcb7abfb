/**
 * Reconnect → KEY_BASED: devices hold the previous generation; one after another, a
 * `Device Reconnected` event goes to the runtime's API and the device is polled until KEY_BASED.
 * The SSH time of the same heal is the raw script's (bench/rotate/raw-heal.ts) on the same device;
 * what keyheal adds is the difference.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient } from "../../lib/cli/api-client.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import type { KeyPair } from "../../lib/keys/types.ts";
import { FOREIGN_LINES, startBenchFleet } from "./fleet.ts";
import { startRuntime, writeInventory } from "./methods.ts";
import { rawHeal } from "./raw-heal.ts";

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface ReconnectFigures {
  samples: number;
  latency: Percentiles;
  ssh: Percentiles;
  overhead: Percentiles;
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
    for (const [i, _device] of fleet.devices.entries()) {
      const id = `bench-${i}`;
      const started = performance.now();
      await api.postEvent(deviceReconnectedEvent({ deviceId: id, reason: "bench" }));
      const deadline = started + 60_000;
      while (performance.now() < deadline) {
        const page = await api.listDevices({ status: "KEY_BASED" });
        if (page.items.some((d) => d.id === id)) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const elapsed = performance.now() - started;
      if (elapsed >= 60_000) throw new Error(`${id} did not become KEY_BASED within 60 s`);
      latency.push(elapsed);
    }
    const ssh: number[] = [];
    for (const device of fleet.devices) {
      await device.writeAuthorizedKeys(
        `${FOREIGN_LINES[0]}\n${previous.authorizedKey}\n${FOREIGN_LINES[1]}\n`,
      );
      ssh.push(await timedRawHeal(device, previous, current));
    }
    const overhead = latency.map((l, i) => l - (ssh[i] ?? 0));
    return {
      samples: count,
      latency: percentiles(latency),
      ssh: percentiles(ssh),
      overhead: percentiles(overhead),
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
  await rawHeal(
    {
      host: device.host,
      port: device.port,
      user: device.user,
      path: device.authorizedKeysFile,
      hostKeyFingerprint: device.hostKeyFingerprint,
    },
    {
      oldPrivateKey: previous.privateKey,
      newPrivateKey: current.privateKey,
      oldBlob: previous.authorizedKey.split(" ")[1] ?? "",
      newLine: current.authorizedKey,
    },
  );
  return performance.now() - started;
}
