/**
 * What the run record of a rotation costs the runtime per write and per read: the local runner
 * rewrites it every second and `keys rotate --wait` reads it at every poll. Compares the item as
 * it was stored before (steps as a DynamoDB list of maps) with the item as it is (steps as one
 * gzipped JSON attribute), through the same document client and embedded engine on disk, both
 * in this process as in the runtime, so CPU per call covers client and engine.
 *
 *   node bench/run-record.ts          # CALLS=40 per measure by default
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoRunStore } from "../lib/store/dynamo-run-store.ts";
import { createEmbeddedDocumentClient, startEmbeddedDynamo } from "../lib/store/embedded.ts";
import type { RunRecord, RunStep } from "../lib/store/runs.ts";
import { createTables, tableNames } from "../lib/store/tables.ts";

const CALLS = Math.min(Math.max(Number(process.env.CALLS ?? 40) || 40, 5), 1000);
/** The states a device's iteration of the rotate Map enters when it installs. */
const ITERATION = ["Install", "Acquired?", "MarkInstalled", "Installed"];

function rotationRun(devices: number): RunRecord {
  const t0 = Date.parse("2026-12-04T10:00:00Z");
  const steps: RunStep[] = [];
  for (let d = 0; d < devices; d++) {
    for (const [i, name] of ITERATION.entries()) {
      const at = t0 + d * 400 + i * 70;
      steps.push({
        name,
        type: name.endsWith("?") ? "Choice" : "Task",
        status: "SUCCEEDED",
        startedAt: new Date(at).toISOString(),
        endedAt: new Date(at + 60).toISOString(),
      });
    }
  }
  return {
    id: `rotate-${devices}`,
    workflow: "rotate",
    deviceId: null,
    status: "RUNNING",
    startedAt: new Date(t0).toISOString(),
    endedAt: null,
    input: { algorithm: "ed25519" },
    steps,
  };
}

const dir = await mkdtemp(join(tmpdir(), "keyheal-run-record-"));
const engine = await startEmbeddedDynamo({ path: join(dir, "db") });
const client = createEmbeddedDocumentClient(engine);
const names = tableNames("bench");
await createTables(client, names);
const store = new DynamoRunStore({ client, tableName: names.runs });

/** The put the store made before: the same conditional write, steps as a list of maps. */
const listOfMaps = (run: RunRecord) =>
  client.send(
    new PutCommand({
      TableName: names.runs,
      Item: { ...run, deviceId: undefined, expiresAt: 2_000_000_000 },
      ConditionExpression: "attribute_not_exists(#id) OR #status = :running",
      ExpressionAttributeNames: { "#id": "id", "#status": "status" },
      ExpressionAttributeValues: { ":running": "RUNNING" },
    }),
  );

async function cpuPerCall(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const used = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await fn();
  const { user, system } = process.cpuUsage(used);
  return (user + system) / CALLS / 1000;
}

const rows: string[] = [];
try {
  for (const devices of [50, 200]) {
    const run = rotationRun(devices);
    const figures = {
      before: { put: [] as number[], get: [] as number[] },
      now: { put: [] as number[], get: [] as number[] },
    };
    // Alternated, twice, so a drift of the machine's speed hits both alike.
    for (let round = 0; round < 2; round++) {
      const legacy = { ...run, id: `${run.id}-before` };
      figures.before.put.push(await cpuPerCall(() => listOfMaps(legacy)));
      figures.before.get.push(await cpuPerCall(() => store.get(legacy.id)));
      figures.now.put.push(await cpuPerCall(() => store.put(run)));
      figures.now.get.push(await cpuPerCall(() => store.get(run.id)));
    }
    const low = (xs: number[]) => Math.min(...xs).toFixed(1);
    rows.push(
      `| ${devices} devices, ${run.steps.length} steps | ${low(figures.before.put)} / ${low(figures.before.get)} ms | ${low(figures.now.put)} / ${low(figures.now.get)} ms |`,
    );
  }
} finally {
  client.destroy();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
console.log(
  [
    `Run record of a rotation, ${CALLS} calls per measure, the lower of two rounds (Node ${process.versions.node}); process CPU per call, put / get:`,
    "",
    "| record | steps as a list of maps (before) | steps as gzipped JSON (now) |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n"),
);
