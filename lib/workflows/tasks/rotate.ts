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

/** Retires earlier generations that no device holds any more. */
export async function retireGenerations(deps: WorkflowDeps, input: { generation: number }) {
  const devices = await allDevices(deps);
  const held = new Set(devices.map((d) => d.keyGeneration).filter((g) => g !== null));
  const retired: number[] = [];
  // A device never checked may hold any generation: keep them all until it has been seen.
  if (devices.some((d) => d.keyGeneration === null && d.status !== "CUSTOM_KEY_BASED")) {
    return { retired, kept: "a device with an unknown generation is registered" };
  }
  const { items } = await deps.keys.list({ limit: 100 });
  for (const key of items) {
    if (
      key.status === "PREVIOUS" &&
      key.generation < input.generation &&
      !held.has(key.generation)
    ) {
      await deps.keys.retire(key.generation);
      retired.push(key.generation);
    }
  }
  return { retired };
}
