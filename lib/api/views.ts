/**
 * The answers of lib/contract/api.ts built from stored records (docs/architecture.md,
 * Contracts): every field present, `null` when unknown. Fingerprints only: no private key,
 * password or secret reference leaves through a view.
 *
 * @module
 */
import type { DeviceView, FailureView, KeyView, PageView, RunView } from "../contract/api.ts";
import type { Device } from "../devices/types.ts";
import type { FailureRecord } from "../failures/types.ts";
import type { KeyGenerationRecord } from "../keys/store-types.ts";
import type { Page } from "../paging/page.ts";
import type { RunRecord } from "../store/runs.ts";

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
export function pageView<T, V>(page: Page<T>, view: (item: T) => V): PageView<V> {
  return { items: page.items.map(view), nextCursor: page.nextCursor ?? null };
}
