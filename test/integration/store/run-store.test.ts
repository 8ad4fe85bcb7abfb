// Fixed dates lie in the real future: DynamoDB Local runs TTL deletion against the real clock.
import { gunzipSync, gzipSync } from "node:zlib";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoRunStore } from "../../../lib/store/dynamo-run-store.ts";
import type { RunRecord, RunStep } from "../../../lib/store/runs.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
let store: DynamoRunStore;
let runsTable: string;
let now: number;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  now = Date.parse("2031-05-01T08:00:00Z");
  const tables = await dynamo.newTables();
  runsTable = tables.runs;
  store = new DynamoRunStore({ client: dynamo.client, tableName: tables.runs, clock: () => now });
});

function run(id: string, deviceId: string | null, startedAt: string): RunRecord {
  return {
    id,
    workflow: deviceId ? "reconnect" : "rotate",
    deviceId,
    status: "RUNNING",
    startedAt,
    endedAt: null,
    input: { deviceId, eventId: `evt-${id}`, dropped: undefined },
    steps: [],
  };
}

describe("run store", () => {
  it("creates a run once: a second create with the same id writes nothing", async () => {
    expect(await store.create(run("r1", "web-1", "2031-05-01T08:00:00.000Z"))).toBe(true);
    expect(await store.create({ ...run("r1", "other", "2031-05-01T09:00:00.000Z") })).toBe(false);
    const stored = await store.get("r1");
    expect(stored).toMatchObject({
      id: "r1",
      workflow: "reconnect",
      deviceId: "web-1",
      status: "RUNNING",
      endedAt: null,
      input: { deviceId: "web-1", eventId: "evt-r1" },
      steps: [],
    });
    expect(stored?.expiresAt).toBe(Date.parse("2031-05-01T08:00:00Z") / 1000 + 90 * 86_400);
  });

  it("stores progress and the end with steps; a late RUNNING write cannot undo the end", async () => {
    const started = run("r2", null, "2031-05-01T08:00:00.000Z");
    await store.create(started);
    const steps: RunStep[] = [
      {
        name: "AcquireLease",
        type: "Task",
        status: "SUCCEEDED",
        startedAt: "2031-05-01T08:00:00.100Z",
        endedAt: "2031-05-01T08:00:00.200Z",
      },
      {
        name: "Detect",
        type: "Task",
        status: "CAUGHT",
        startedAt: "2031-05-01T08:00:00.300Z",
        endedAt: "2031-05-01T08:00:01.000Z",
        error: "AuthRejected",
        caughtBy: "RecordFailure",
        retries: 2,
      },
      { name: "RecordFailure", status: "RUNNING", startedAt: "2031-05-01T08:00:01.100Z" },
    ];
    expect(await store.put({ ...started, steps })).toBe(true);
    expect((await store.get("r2"))?.steps).toEqual(steps);

    const ended: RunRecord = {
      ...started,
      status: "FAILED",
      endedAt: "2031-05-01T08:00:02.000Z",
      error: "AuthRejected",
      cause: "no known key accepted",
      steps,
    };
    expect(await store.put(ended)).toBe(true);
    expect(await store.put({ ...started, steps: steps.slice(0, 1) })).toBe(false);
    expect(await store.get("r2")).toMatchObject({
      status: "FAILED",
      deviceId: null,
      endedAt: "2031-05-01T08:00:02.000Z",
      error: "AuthRejected",
      steps,
    });
  });

  it("lists a device's runs newest first through the index, across pages", async () => {
    for (let i = 0; i < 5; i++) {
      await store.create(run(`d-${i}`, "web-1", `2031-05-01T0${i}:00:00.000Z`));
    }
    await store.create(run("other", "web-2", "2031-05-01T03:30:00.000Z"));
    await store.create(run("rotation", null, "2031-05-01T03:40:00.000Z"));
    const first = await store.list({ deviceId: "web-1", limit: 2 });
    const ids = first.items.map((r) => r.id);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await store.list({ deviceId: "web-1", limit: 2, cursor });
      ids.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    }
    expect(ids).toEqual(["d-4", "d-3", "d-2", "d-1", "d-0"]);
    expect((await store.list({ limit: 100 })).items).toHaveLength(7);
  });

  it("hides expired runs", async () => {
    await store.create(run("old", "web-1", "2031-01-01T00:00:00.000Z"));
    now = Date.parse("2031-04-02T00:00:00Z");
    expect(await store.get("old")).toBeUndefined();
    expect((await store.list({ deviceId: "web-1" })).items).toEqual([]);
  });

  it("keeps a huge run within one item by leaving out steps from the middle", async () => {
    const started = run("big", null, "2031-05-01T08:00:00.000Z");
    const steps: RunStep[] = Array.from({ length: 4000 }, (_, i) => ({
      name: `ReplaceKey-device-${i}`,
      type: "Task",
      status: "SUCCEEDED",
      startedAt: "2031-05-01T08:00:00.000Z",
      endedAt: "2031-05-01T08:00:01.000Z",
      cause: "x".repeat(60),
    }));
    expect(await store.put({ ...started, steps, output: { blob: "y".repeat(100_000) } })).toBe(
      true,
    );
    const stored = await store.get("big");
    expect(stored?.stepsOmitted).toBeGreaterThan(0);
    expect((stored?.steps.length ?? 0) + (stored?.stepsOmitted ?? 0)).toBe(4000);
    expect(stored?.steps[0]?.name).toBe("ReplaceKey-device-0");
    expect(stored?.steps.at(-1)?.name).toBe("ReplaceKey-device-3999");
    expect(stored?.output).toMatchObject({ truncated: true });
  });

  it("reads a run written with its steps as a list of maps, as items were before", async () => {
    const steps: RunStep[] = [
      {
        name: "Detect",
        type: "Task",
        status: "SUCCEEDED",
        startedAt: "2031-05-01T08:00:00.100Z",
        endedAt: "2031-05-01T08:00:00.200Z",
      },
      { name: "Replace", type: "Task", status: "RUNNING", startedAt: "2031-05-01T08:00:00.300Z" },
    ];
    await dynamo.client.send(
      new PutCommand({
        TableName: runsTable,
        Item: {
          id: "legacy",
          workflow: "reconnect",
          deviceId: "web-1",
          status: "RUNNING",
          startedAt: "2031-05-01T08:00:00.000Z",
          steps,
          expiresAt: Date.parse("2031-06-01T00:00:00Z") / 1000,
        },
      }),
    );
    expect((await store.get("legacy"))?.steps).toEqual(steps);
  });

  it("keeps the steps of a large rotation whole, in order, through a write and a read", async () => {
    const started = run("fleet", null, "2031-05-01T08:00:00.000Z");
    const steps: RunStep[] = Array.from({ length: 1200 }, (_, i) => ({
      name: ["AcquireLease", "Install", "MarkInstalled"][i % 3] as string,
      type: "Task",
      status: i === 1199 ? "RUNNING" : "SUCCEEDED",
      startedAt: new Date(Date.parse("2031-05-01T08:00:00Z") + i).toISOString(),
      ...(i === 1199
        ? {}
        : { endedAt: new Date(Date.parse("2031-05-01T08:00:01Z") + i).toISOString() }),
    }));
    expect(await store.put({ ...started, steps })).toBe(true);
    const stored = await store.get("fleet");
    expect(stored?.stepsOmitted).toBeUndefined();
    expect(stored?.steps).toEqual(steps);
  });

  it("keeps a run's few steps as JSON text and a large rotation's gzipped; reads runs gzipped before", async () => {
    const small = run("small", "web-1", "2031-05-01T08:00:00.000Z");
    const steps: RunStep[] = [
      { name: "Detect", type: "Task", status: "RUNNING", startedAt: "2031-05-01T08:00:00.100Z" },
    ];
    await store.put({ ...small, steps });
    const raw = async (id: string) =>
      (await dynamo.client.send(new GetCommand({ TableName: runsTable, Key: { id } }))).Item ?? {};
    const smallItem = await raw("small");
    expect(JSON.parse(String(smallItem.stepsJson))).toEqual(steps);
    expect(smallItem.stepsGzip).toBeUndefined();

    const many: RunStep[] = Array.from({ length: 600 }, (_, i) => ({
      name: "Install",
      type: "Task",
      status: "SUCCEEDED",
      startedAt: new Date(Date.parse("2031-05-01T08:00:00Z") + i).toISOString(),
    }));
    await store.put({ ...run("large", null, "2031-05-01T08:00:00.000Z"), steps: many });
    const largeItem = await raw("large");
    expect(largeItem.stepsJson).toBeUndefined();
    expect(JSON.parse(gunzipSync(largeItem.stepsGzip as Uint8Array).toString("utf8"))).toEqual(
      many,
    );

    // An item whose few steps were gzipped, as every run was before.
    await dynamo.client.send(
      new PutCommand({
        TableName: runsTable,
        Item: {
          ...smallItem,
          id: "gzipped",
          stepsJson: undefined,
          stepsGzip: gzipSync(JSON.stringify(steps)),
        },
      }),
    );
    expect((await store.get("gzipped"))?.steps).toEqual(steps);
  });
});
