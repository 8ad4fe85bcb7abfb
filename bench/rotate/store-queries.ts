/**
 * The failure store over many records on the embedded engine, reached as the runtime reaches it
 * (its Unix socket, kept-alive connections): the first and a deep page of a query filtered by
 * cause and time, and delete-all in pages of 200 as `keyheal failures delete --all` does.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CAUSE_NAMES } from "../../lib/failures/causes.ts";
import { DynamoFailureStore } from "../../lib/store/dynamo-failure-store.ts";
import { createEmbeddedDocumentClient, startEmbeddedDynamo } from "../../lib/store/embedded.ts";
import { createTables, tableNames } from "../../lib/store/tables.ts";
import { DAY_MS, seedFailures } from "../failure-seed.ts";

export interface StoreFigures {
  records: number;
  loadMs: number;
  firstPage: { p50: number; p99: number };
  deepPageNumber: number;
  deepPage: { p50: number };
  deleteAllMs: number;
  deleted: number;
}

const QUERIES = 200;
const DEEP_PAGE = 40;
const DELETE_PAGE = 200;

const at = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? Number.NaN;
};

/** `deleteBudgetMs` bounds delete-all (0: none); `deleted` then says how far it got. */
export async function measureFailureStore(
  records: number,
  deleteBudgetMs = 0,
): Promise<StoreFigures> {
  const dir = await mkdtemp(join(tmpdir(), "keyheal-store-bench-"));
  const engine = await startEmbeddedDynamo({ path: join(dir, "db"), socketDir: join(dir, "s") });
  const client = createEmbeddedDocumentClient(engine);
  try {
    const names = tableNames("bench");
    await createTables(client, names);
    const now = Date.now();
    const store = new DynamoFailureStore({ client, tableName: names.failures, clock: () => now });
    const causes = CAUSE_NAMES.slice(0, 8);
    const loadStarted = performance.now();
    await seedFailures(client, store, names.failures, { records, now, causes });
    const loadMs = performance.now() - loadStarted;

    const filter = {
      cause: causes[2] ?? "AUTH_REJECTED",
      since: new Date(now - 20 * DAY_MS).toISOString(),
      until: new Date(now - DAY_MS).toISOString(),
    };
    const first: number[] = [];
    for (let q = 0; q < QUERIES; q++) {
      const started = performance.now();
      await store.list({ ...filter, limit: 50 });
      first.push(performance.now() - started);
    }
    // The cursor of the deepest page the filter reaches, at most DEEP_PAGE (fewer records: fewer pages).
    let cursor: string | undefined;
    let deepPageNumber = 1;
    for (let page = 1; page < DEEP_PAGE; page++) {
      const next = (await store.list({ ...filter, limit: 50, ...(cursor ? { cursor } : {}) }))
        .nextCursor;
      if (!next) break;
      cursor = next;
      deepPageNumber = page + 1;
    }
    const deep: number[] = [];
    for (let q = 0; q < 20; q++) {
      const started = performance.now();
      await store.list({ ...filter, limit: 50, ...(cursor ? { cursor } : {}) });
      deep.push(performance.now() - started);
    }

    const deleteStarted = performance.now();
    let deleted = 0;
    for (let round = 0; round <= records / DELETE_PAGE + 1; round++) {
      const result = await store.deleteSome({}, DELETE_PAGE);
      deleted += result.deleted;
      if (!result.more) break;
      if (deleteBudgetMs > 0 && performance.now() - deleteStarted > deleteBudgetMs) break;
    }
    return {
      records,
      loadMs,
      firstPage: { p50: at(first, 0.5), p99: at(first, 0.99) },
      deepPageNumber,
      deepPage: { p50: at(deep, 0.5) },
      deleteAllMs: performance.now() - deleteStarted,
      deleted,
    };
  } finally {
    client.destroy();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}
