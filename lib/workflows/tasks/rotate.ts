import { probeTcp } from "../../cloud/tcp-probe.ts";
import type { Device } from "../../devices/types.ts";
import { generateKeyPair, type KeyType } from "../../keys/index.ts";
import type { WorkflowDeps } from "../deps.ts";
import { manifestPrefix } from "../manifests.ts";
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

/** Statuses a canary is taken from first: devices last seen answering, then never checked. */
const CANARY_PREFERENCE = ["KEY_BASED", "KEY_CONFLICT", "UNKNOWN"] as const;

/** Candidates probed for an answering canary, and how long each may take to answer. */
const MAX_CANARY_PROBES = 10;
const CANARY_PROBE_MS = 1_000;
/** Devices installed at once when the rotation's input does not say. */
const DEFAULT_CONCURRENCY = 8;

export interface ListDevicesInput {
  runId: string;
  /** The rotation's input: its settings, each optional. */
  request: {
    /** Devices installed at once. */
    concurrency?: number | null;
    /** Devices installed first, alone; the rotation stops if one fails. Default 1. */
    canary?: number | null;
    /** Of the rest, the percentage that may fail before the fan-out stops. Default 100. */
    toleratedFailurePercentage?: number | null;
  };
}

/** A manifest needs a store: on AWS the stack's manifest bucket (MANIFEST_BUCKET). */
export class NoManifestStoreError extends Error {
  constructor() {
    super(
      "ListDevices has no manifest store: deploy the stack again so the function gets MANIFEST_BUCKET.",
    );
    this.name = "NoManifestStoreError";
  }
}

/**
 * The rotation's plan: the canary devices and the rest of the fleet, each written as a manifest
 * of device ids that the Distributed Map reads itself, so the fleet never travels through a
 * state's input or output (docs/scale.md). The canaries are devices last seen answering, so a
 * device that is simply down does not stop the rotation.
 */
export async function listDevices(deps: WorkflowDeps, input: ListDevicesInput) {
  if (!deps.manifests) throw new NoManifestStoreError();
  const devices = await allDevices(deps);
  const { request } = input;
  const wanted = Math.min(Math.max(0, request.canary ?? 1), devices.length);
  const canary: Device[] = [];
  // A canary must answer now: a device that is down proves nothing about the new key, and
  // heals later through reconnect. Candidates are probed on their SSH port, a bounded number.
  let probed = 0;
  for (const status of CANARY_PREFERENCE) {
    for (const device of devices) {
      if (canary.length >= wanted || probed >= MAX_CANARY_PROBES) break;
      if (device.status !== status) continue;
      probed += 1;
      const answer = await probeTcp(device.host, device.port, CANARY_PROBE_MS);
      if (answer.open) canary.push(device);
    }
  }
  const chosen = new Set(canary.map((d) => d.id));
  const fleet = devices.filter((d) => !chosen.has(d.id));
  const prefix = manifestPrefix(input.runId);
  const percentage = request.toleratedFailurePercentage ?? 100;
  return {
    total: devices.length,
    concurrency: Math.max(1, request.concurrency ?? DEFAULT_CONCURRENCY),
    canary: await deps.manifests.write(
      `${prefix}/canary.json`,
      canary.map((d) => d.id),
    ),
    fleet: await deps.manifests.write(
      `${prefix}/fleet.json`,
      fleet.map((d) => d.id),
    ),
    toleratedFailures: Math.floor((fleet.length * percentage) / 100),
  };
}

export interface ReleaseRunInput {
  /** The execution's id (ARN on AWS). */
  runId: string;
  /** The lease owner the run's iterations used: the execution's name. */
  owner: string;
  /** How the execution ended: FAILED, TIMED_OUT or ABORTED. */
  status: string;
}

/**
 * After a rotation execution failed, timed out or was stopped: every device it still holds
 * (RESOLVING under its lease) is released and marked UNKNOWN, so the next reconnect or
 * rotation checks it again instead of waiting for the lease to lapse. Devices are found on the
 * status index; a lease another run holds is left alone (the release is conditional on owner).
 */
export async function releaseRun(deps: WorkflowDeps, input: ReleaseRunInput) {
  const released: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.devices.list({
      status: "RESOLVING",
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    for (const device of page.items) {
      if (await deps.devices.releaseLease(device.id, input.owner)) {
        await deps.devices.update(device.id, {
          status: "UNKNOWN",
          lastFailureCause: input.status === "TIMED_OUT" ? "TIMEOUT" : "INTERNAL",
          lastCheckedAt: deps.now().toISOString(),
        });
        released.push(device.id);
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  deps.logger.info("run released", { runId: input.runId, status: input.status, released });
  return { released };
}

/**
 * Retires earlier generations only when every device has been proven, on a connection, to hold a
 * newer one. A device's record names the generation last proven (Detect, a heal and its verify); since
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
