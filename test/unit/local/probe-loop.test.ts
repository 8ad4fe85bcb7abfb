import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../../lib/cloud/tcp-probe.ts";
import type { AuthStatus, Device } from "../../../lib/devices/types.ts";
import { ProbeLoop } from "../../../lib/local/probe-loop.ts";
import type { IntakeResult } from "../../../lib/workflows/intake.ts";

function device(id: string, status: AuthStatus = "KEY_BASED"): Device {
  return {
    id,
    host: "127.0.0.1",
    port: 22,
    adminUser: "root",
    status,
    keyGeneration: 1,
    lastFailureCause: null,
    createdAt: "",
    updatedAt: "",
  };
}

const silentLog = { info: () => {}, warn: () => {}, debug: () => {} };

function harness(devices: Device[]) {
  const open = new Map<string, boolean>();
  const events: Array<{ detail: { deviceId: string } }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const loop = new ProbeLoop({
    devices: { list: async () => ({ items: devices }) },
    intake: async (event) => {
      events.push(event as { detail: { deviceId: string } });
      return { outcome: "started", runId: "r" } as IntakeResult;
    },
    intervalMs: 1000,
    concurrency: 2,
    log: silentLog,
    probe: async (host, port): Promise<ProbeResult> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const id = devices.find((d) => d.host === host && d.port === port)?.id ?? "";
      return open.get(id) ? { open: true, ms: 1 } : { open: false, cause: "CONNECTION_REFUSED" };
    },
  });
  return { loop, open, events, maxInFlight: () => maxInFlight };
}

describe("reconnect probe loop", () => {
  it("sends Device Reconnected on a down → up transition only", async () => {
    const d = { ...device("a"), port: 2201 };
    const h = harness([d]);
    h.open.set("a", true);
    expect((await h.loop.sweep()).reconnected).toEqual([]);
    h.open.set("a", false);
    await h.loop.sweep();
    expect(h.loop.status().down).toEqual(["a"]);
    await h.loop.sweep();
    h.open.set("a", true);
    expect((await h.loop.sweep()).reconnected).toEqual(["a"]);
    await h.loop.sweep();
    expect(h.events.map((e) => e.detail.deviceId)).toEqual(["a"]);
  });

  it("counts a device stored UNREACHABLE as down when first seen, so a return while stopped is noticed", async () => {
    const h = harness([
      { ...device("was-down", "UNREACHABLE"), port: 1 },
      { ...device("fine"), port: 2 },
    ]);
    h.open.set("was-down", true);
    h.open.set("fine", true);
    expect((await h.loop.sweep()).reconnected).toEqual(["was-down"]);
  });

  it("probes with bounded concurrency", async () => {
    const devices = Array.from({ length: 9 }, (_, i) => ({ ...device(`d${i}`), port: 100 + i }));
    const h = harness(devices);
    expect((await h.loop.sweep()).probed).toBe(9);
    expect(h.maxInFlight()).toBe(2);
  });

  it("stops for good", async () => {
    const h = harness([device("a")]);
    h.loop.start();
    await h.loop.stop();
    expect(h.loop.status().running).toBe(false);
    h.loop.start();
    expect(h.loop.status().running).toBe(false);
  });
});
