/**
 * The answers of lib/contract/api.ts built from stored records (docs/architecture.md,
 * Contracts): every field present, `null` when unknown. Fingerprints only: no private key,
 * password or secret reference leaves through a view.
 *
 * @module
 */
import type * as z from "zod";
import { DeviceView, FailureView, KeyView, type PageView, RunView } from "../contract/api.ts";
import type { Device } from "../devices/types.ts";
import type { FailureRecord } from "../failures/types.ts";
import type { KeyGenerationRecord } from "../keys/store-types.ts";
import type { Page } from "../paging/page.ts";
import type { RunRecord } from "../store/runs.ts";

/**
 * The answer `schema` describes, built from `record`: exactly the schema's fields, each the
 * record's value, else `derived`'s, else `null`. A field the contract does not name (a secret
 * reference, a lease) never leaves.
 */
function viewOf<S extends z.ZodObject>(
  schema: S,
  record: object,
  derived: Partial<z.infer<S>> = {},
): z.infer<S> {
  const values = record as Record<string, unknown>;
  const extra = derived as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const field of Object.keys(schema.shape)) {
    view[field] = extra[field] ?? values[field] ?? null;
  }
  return view as z.infer<S>;
}

export const deviceView = (d: Device): DeviceView => viewOf(DeviceView, d);

/** Leaves out `secretRef`: where the private key lives is nobody's business but the store's. */
export const keyView = (k: KeyGenerationRecord): KeyView => viewOf(KeyView, k);

/** `expiresAt` is stored as epoch seconds (the table's TTL) and answered as an instant. */
export const failureView = (f: FailureRecord): FailureView =>
  viewOf(FailureView, f, { expiresAt: new Date(f.expiresAt * 1000).toISOString() });

export const runView = (r: RunRecord): RunView =>
  viewOf(RunView, r, { stepsOmitted: r.stepsOmitted ?? 0 });

/** A list page: `{ items, nextCursor }`, `nextCursor` null on the last page. */
export function pageView<T, V>(page: Page<T>, view: (item: T) => V): PageView<V> {
  return { items: page.items.map(view), nextCursor: page.nextCursor ?? null };
}
