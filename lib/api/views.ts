/**
 * The JSON shapes of docs/architecture.md, Contracts, built from stored records. The fixed fields are always present
 * (`null` when unknown); a few more are added where an operator needs them. Fingerprints only:
 * no private key, password or secret reference leaves through a view.
 *
 * @module
 */
import type { Device, Page } from "../devices/types.ts";
import type { FailureRecord } from "../failures/types.ts";
import type { KeyGenerationRecord } from "../keys/store-types.ts";
import type { RunRecord } from "../store/runs.ts";

export interface DeviceView {
  id: string;
  host: string;
  port: number;
  adminUser: string;
  status: Device["status"];
  keyGeneration: number | null;
  hostKeyFingerprint: string | null;
  lastFailureCause: Device["lastFailureCause"];
  instanceId: string | null;
  region: string | null;
  authorizedKeysPath: string | null;
  createdAt: string;
  updatedAt: string;
  lastCheckedAt: string | null;
}

export function deviceView(d: Device): DeviceView {
  return {
    id: d.id,
    host: d.host,
    port: d.port,
    adminUser: d.adminUser,
    status: d.status,
    keyGeneration: d.keyGeneration,
    hostKeyFingerprint: d.hostKeyFingerprint ?? null,
    lastFailureCause: d.lastFailureCause,
    instanceId: d.instanceId ?? null,
    region: d.region ?? null,
    authorizedKeysPath: d.authorizedKeysPath ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    lastCheckedAt: d.lastCheckedAt ?? null,
  };
}

export interface KeyView {
  generation: number;
  algorithm: KeyGenerationRecord["algorithm"];
  fingerprint: string;
  status: KeyGenerationRecord["status"];
  createdAt: string;
  /** The authorized_keys line of the public key. */
  publicKey: string;
}

/** Leaves out `secretRef`: where the private key lives is nobody's business but the store's. */
export function keyView(k: KeyGenerationRecord): KeyView {
  return {
    generation: k.generation,
    algorithm: k.algorithm,
    fingerprint: k.fingerprint,
    status: k.status,
    createdAt: k.createdAt,
    publicKey: k.publicKey,
  };
}

export interface FailureView {
  id: string;
  deviceId: string;
  operation: FailureRecord["operation"];
  cause: FailureRecord["cause"];
  message: string;
  hint: string;
  attempt: number;
  keyGeneration: number | null;
  runId: string | null;
  occurredAt: string;
  /** When the record expires (ISO). */
  expiresAt: string;
  /** The run a retry of this failure started. */
  retriedByRunId: string | null;
}

export function failureView(f: FailureRecord): FailureView {
  return {
    id: f.id,
    deviceId: f.deviceId,
    operation: f.operation,
    cause: f.cause,
    message: f.message,
    hint: f.hint,
    attempt: f.attempt,
    keyGeneration: f.keyGeneration,
    runId: f.runId,
    occurredAt: f.occurredAt,
    expiresAt: new Date(f.expiresAt * 1000).toISOString(),
    retriedByRunId: f.retriedByRunId ?? null,
  };
}

export interface RunView {
  id: string;
  workflow: string;
  deviceId: string | null;
  status: RunRecord["status"];
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  cause: string | null;
  steps: RunRecord["steps"];
  stepsOmitted: number;
  output: unknown;
  /** A rotation's fan-out: devices given, iterations ended, of which not installed. */
  progress: RunRecord["progress"] | null;
}

export function runView(r: RunRecord): RunView {
  return {
    id: r.id,
    workflow: r.workflow,
    deviceId: r.deviceId,
    status: r.status,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    error: r.error ?? null,
    cause: r.cause ?? null,
    steps: r.steps,
    stepsOmitted: r.stepsOmitted ?? 0,
    output: r.output ?? null,
    progress: r.progress ?? null,
  };
}

/** A list page: `{ items, nextCursor }`, `nextCursor` null on the last page. */
export function pageView<T, V>(
  page: Page<T>,
  view: (item: T) => V,
): { items: V[]; nextCursor: string | null } {
  return { items: page.items.map(view), nextCursor: page.nextCursor ?? null };
}
