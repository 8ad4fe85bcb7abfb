import { describe, expect, it } from "vitest";
import type { Device, DeviceStore } from "../../../lib/devices/types.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { MemoryManifestStore } from "../../../lib/workflows/manifests.ts";
import { listDevices } from "../../../lib/workflows/tasks/rotate.ts";

/** Step Functions' limit on a state's input or output. */
const PAYLOAD_LIMIT = 256 * 1024;

/** A device store holding `n` registered devices, served in pages of 100 like the real one. */
function fleetOf(n: number): DeviceStore {
  const devices: Device[] = Array.from({ length: n }, (_, i) => ({
    id: `edge-${String(i).padStart(6, "0")}-eu-west-1-rack-17`,
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 22,
    adminUser: "ops",
    status: i % 10 === 0 ? "UNKNOWN" : "KEY_BASED",
    keyGeneration: 3,
    lastFailureCause: null,
    createdAt: "2026-12-01T00:00:00Z",
    updatedAt: "2026-12-01T00:00:00Z",
  }));
  return {
    async list({ limit = 100, cursor }) {
      const start = cursor === undefined ? 0 : Number(cursor);
      const end = Math.min(devices.length, start + limit);
      return {
        items: devices.slice(start, end),
        ...(end < devices.length ? { nextCursor: String(end) } : {}),
      };
    },
  } as DeviceStore;
}

describe("rotation input at 100,000 devices", () => {
  it("issue 11: the fleet goes to manifests; ListDevices' output and every state's input stay far under 256 KB", async () => {
    const manifests = new MemoryManifestStore();
    const deps = { devices: fleetOf(100_000), manifests } as unknown as WorkflowDeps;
    const runId = "arn:aws:states:eu-west-1:123456789012:execution:Keyheal-rotate:rotate-01J";
    const request = {
      algorithm: "ed25519",
      concurrency: 500,
      canary: 5,
      toleratedFailurePercentage: 2,
    };
    const plan = await listDevices(deps, { runId, request });
    expect(plan).toMatchObject({
      total: 100_000,
      concurrency: 500,
      canary: { count: 5 },
      fleet: { count: 99_995 },
      toleratedFailures: 1999,
    });
    const fleet = await manifests.read(plan.fleet);
    const canary = await manifests.read(plan.canary);
    expect(new Set([...canary, ...fleet]).size).toBe(100_000);
    // The largest state input of the parent: the request, the new key, the plan, the phase
    // and a caught error (its Cause is capped by Step Functions at 32,768 characters).
    const largest = {
      ...request,
      key: { generation: 4, fingerprint: `SHA256:${"x".repeat(43)}`, algorithm: "ed25519" },
      plan,
      phase: { name: "fleet", manifest: plan.fleet, toleratedFailures: plan.toleratedFailures },
      error: { Error: "States.ExceedToleratedFailureThreshold", Cause: "c".repeat(32_768) },
    };
    expect(JSON.stringify(largest).length).toBeLessThan(PAYLOAD_LIMIT / 4);
    // A child's input is one device: the item and two ids.
    const item = { deviceId: fleet[0], owner: "rotate-01J", runId };
    expect(JSON.stringify(item).length).toBeLessThan(1024);
  });
});
