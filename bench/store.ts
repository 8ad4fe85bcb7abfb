/**
 * The failure store at fleet scale on the embedded engine, reached as the runtime reaches it
 * (dynalite on LevelDB in this process, over its Unix socket with kept-alive connections):
 *
 * - the first page and a deep page (by cursor) of a query filtered by cause and a time range,
 *   wall time p50/p95/p99 and process CPU per query;
 * - delete-all, as `keyheal failures delete --all` runs it (`DELETE /failures?limit=200` until
 *   nothing is left), and as one `DELETE /failures` without a limit, each over a full set.
 *
 * Not part of `npm test`. Writes its section of bench/RESULTS.md after a full run.
 *
 *   npm run bench:store                       # RECORDS=100000, QUERIES=500
 *   RECORDS=20000 npm run bench:store         # a smaller set; prints, writes nothing
 *   node --cpu-prof --cpu-prof-dir=prof bench/store.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { CAUSE_NAMES } from "../lib/failures/causes.ts";
import { DynamoFailureStore } from "../lib/store/dynamo-failure-store.ts";
import { createEmbeddedDocumentClient, startEmbeddedDynamo } from "../lib/store/embedded.ts";
import { createTables, tableNames } from "../lib/store/tables.ts";
import { DAY_MS, SPAN_DAYS, seedFailures } from "./failure-seed.ts";

const FULL_RECORDS = 100_000;
const bounded = (name: string, fallback: number, min: number, max: number) =>
  Math.min(Math.max(Number(process.env[name] ?? fallback) || fallback, min), max);
const RECORDS = bounded("RECORDS", FULL_RECORDS, 1_000, 200_000);
const QUERIES = bounded("QUERIES", 500, 20, 5_000);
/** Which parts run: `query`, `delete` (default both; a partial run writes nothing). */
const PARTS = new Set((process.env.PARTS ?? "query,delete").split(","));
const PAGE = 50;
const DEEP_PAGE = 40;
/** What `keyheal failures delete --all` asks for per round (lib/cli/failures.ts). */
const DELETE_PAGE = 200;
const CAUSES = CAUSE_NAMES.slice(0, 8);
const RESULTS = new URL("./RESULTS.md", import.meta.url);

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] ?? Number.NaN;
};

interface Timing {
  p50: number;
  p95: number;
  p99: number;
  cpu: number;
}

/** `runs` calls of `call`, one at a time: wall p50/p95/p99 and mean process CPU, in ms. */
async function time(runs: number, call: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < 20; i++) await call();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call();
    walls.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return {
    p50: quantile(walls, 0.5),
    p95: quantile(walls, 0.95),
    p99: quantile(walls, 0.99),
    cpu: (used.user + used.system) / 1000 / runs,
  };
}

/** A fresh engine and table with `RECORDS` failures, as a runtime would hold them on disk. */
async function loaded<T>(fn: (store: DynamoFailureStore, now: number) => Promise<T>) {
  const dir = await mkdtemp(join(tmpdir(), "keyheal-store-bench-"));
  const engine = await startEmbeddedDynamo({ path: join(dir, "db"), socketDir: join(dir, "s") });
  const client = createEmbeddedDocumentClient(engine);
  try {
    const names = tableNames("bench");
    await createTables(client, names);
    const now = Date.now();
    const store = new DynamoFailureStore({ client, tableName: names.failures, clock: () => now });
    const started = performance.now();
    await seedFailures(client, store, names.failures, { records: RECORDS, now, causes: CAUSES });
    console.log(
      `  loaded ${RECORDS} records in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return await fn(store, now);
  } finally {
    client.destroy();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function queries(store: DynamoFailureStore, now: number) {
  const filter = {
    cause: CAUSES[2] ?? "AUTH_REJECTED",
    since: new Date(now - 20 * DAY_MS).toISOString(),
    until: new Date(now - DAY_MS).toISOString(),
  };
  const first = await time(QUERIES, () => store.list({ ...filter, limit: PAGE }));
  let cursor: string | undefined;
  let deepPage = 1;
  for (; deepPage < DEEP_PAGE; deepPage++) {
    const next = (await store.list({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) }))
      .nextCursor;
    if (!next) break;
    cursor = next;
  }
  const deep = await time(QUERIES, () =>
    store.list({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) }),
  );
  return { first, deep, deepPage };
}

/** Deletes everything as the CLI does; the rounds are bounded by the records there are. */
async function deleteInPages(store: DynamoFailureStore) {
  const started = performance.now();
  let deleted = 0;
  for (let round = 0; round <= RECORDS / DELETE_PAGE + 1; round++) {
    const result = await store.deleteSome({}, DELETE_PAGE);
    deleted += result.deleted;
    if (!result.more) break;
  }
  return { ms: performance.now() - started, deleted };
}

async function deleteAtOnce(store: DynamoFailureStore) {
  const started = performance.now();
  const deleted = await store.deleteMany({});
  return { ms: performance.now() - started, deleted };
}

const f1 = (ms: number) => ms.toFixed(1);
const machine = () => {
  const os = (() => {
    try {
      return /PRETTY_NAME="([^"]+)"/.exec(execFileSync("cat", ["/etc/os-release"]).toString())?.[1];
    } catch {
      return undefined;
    }
  })();
  const load = (() => {
    try {
      return execFileSync("cat", ["/proc/loadavg"]).toString().split(" ")[0];
    } catch {
      return "?";
    }
  })();
  return `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} free), Node ${process.versions.node}${os ? `, ${os}` : ""}, load average ${load} at the end`;
};

console.log(`failure store over ${RECORDS} records, ${QUERIES} queries a figure …`);
const none = { ms: Number.NaN, deleted: 0 };
// The queries and then the paged delete-all run on one loaded set, the one-call delete on another.
const [read, paged] = await loaded(async (store, now) => [
  PARTS.has("query") ? await queries(store, now) : undefined,
  PARTS.has("delete") ? await deleteInPages(store) : none,
]);
const whole = PARTS.has("delete") ? await loaded(async (store) => deleteAtOnce(store)) : none;

const row = (name: string, t: Timing) =>
  `| ${name} | ${f1(t.p50)} ms | ${f1(t.p95)} ms | ${f1(t.p99)} ms | ${f1(t.cpu)} ms |`;
const rate = (r: { ms: number; deleted: number }) =>
  `${(r.ms / 1000).toFixed(1)} s for ${r.deleted.toLocaleString("en")} records (${Math.round((r.deleted * 1000) / r.ms).toLocaleString("en")} per second)`;
const text = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, by \`npm run bench:store\`` +
    ` (${RECORDS.toLocaleString("en")} failures over ${SPAN_DAYS} days, ${CAUSES.length} causes; a query filtered by one cause and a 19-day range, pages of ${PAGE}, ${QUERIES} queries a figure, one at a time).`,
  "",
  "| query | p50 | p95 | p99 | process CPU per query |",
  "| --- | --- | --- | --- | --- |",
  ...(read
    ? [row("first page", read.first), row(`page ${read.deepPage} (by cursor)`, read.deep)]
    : []),
  "",
  `Delete-all as \`keyheal failures delete --all\` runs it (\`DELETE /failures?limit=${DELETE_PAGE}\` until nothing is left): ${rate(paged)}. In one \`DELETE /failures\`: ${rate(whole)}.`,
].join("\n");
console.log(`\n${text}`);
if (read && RECORDS === FULL_RECORDS && paged.deleted === RECORDS && whole.deleted === RECORDS) {
  const begin = "<!-- store:begin -->";
  const end = "<!-- store:end -->";
  const current = await readFile(RESULTS, "utf8");
  const block = `${begin}\n${text}\n${end}`;
  await writeFile(
    RESULTS,
    current.includes(begin) && current.includes(end)
      ? current.slice(0, current.indexOf(begin)) +
          block +
          current.slice(current.indexOf(end) + end.length)
      : `${current.trimEnd()}\n\n## Failure store at 100,000 records (\`npm run bench:store\`)\n\n${block}\n`,
  );
}
