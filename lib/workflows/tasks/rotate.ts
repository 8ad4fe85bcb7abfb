import type { Device } from "../../devices/types.ts";
import { generateKeyPair, type KeyType } from "../../keys/index.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";

/** Every registered device, page by page. */
export async function allDevices(deps: WorkflowDeps): Promise<Device[]> {
  const devices: Device[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.devices.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    devices.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return devices;
}

/** Generation N+1; its private key goes to the secret store, the table keeps the fingerprint. */
export async function createGeneration(deps: WorkflowDeps, input: { algorithm?: KeyType | null }) {
  try {
    const key = generateKeyPair({ type: input.algorithm ?? "ed25519", comment: "keyheal" });
    const record = await deps.keys.add(key);
    deps.logger.info("generation created", {
      generation: record.generation,
      fingerprint: record.fingerprint,
    });
    return {
      generation: record.generation,
      fingerprint: record.fingerprint,
      algorithm: record.algorithm,
    };
  } catch (error) {
    throw toTaskError(error, "ROTATE");
  }
}

/** The Map's items: one per registered device, each carrying the run's lease owner. */
export async function listDevices(deps: WorkflowDeps, input: { runId: string; owner: string }) {
  const devices = await allDevices(deps);
  return {
    devices: devices.map((d) => ({ deviceId: d.id, owner: input.owner, runId: input.runId })),
  };
}

/**
 * Retires earlier generations only when every device has been proven, on a connection, to hold a
 * newer one. A device's record names the generation last proven (Detect, Verify, a heal); since
 * then it may have been given any newer generation by a heal that failed before it could record
 * it, so every generation from the oldest proven one on is kept.
 */
export async function retireGenerations(deps: WorkflowDeps, input: { generation: number }) {
  const devices = await allDevices(deps);
  const tracked = devices.filter((d) => d.status !== "CUSTOM_KEY_BASED");
  const retired: number[] = [];
  // A device never proven may hold any generation: keep them all until it has been seen.
  if (tracked.some((d) => d.keyGeneration === null)) {
    return { retired, kept: "a device with an unknown generation is registered" };
  }
  const oldestProven = Math.min(...tracked.map((d) => d.keyGeneration as number));
  const { items } = await deps.keys.list({ limit: 100 });
  for (const key of items) {
    if (
      key.status === "PREVIOUS" &&
      key.generation < input.generation &&
      key.generation < oldestProven
    ) {
      await deps.keys.retire(key.generation);
      retired.push(key.generation);
    }
  }
  return { retired, ...(Number.isFinite(oldestProven) ? { oldestProven } : {}) };
}
