// Fixed dates lie in the real future: DynamoDB Local runs TTL deletion against the real clock.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JobRecord } from "../../../lib/jobs/types.ts";
import { DynamoJobStore } from "../../../lib/store/dynamo-job-store.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
let store: DynamoJobStore;
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
  store = new DynamoJobStore({ client: dynamo.client, tableName: tables.jobs, clock: () => now });
});

const job = (id: string, devices: number): JobRecord => ({
  id,
  kind: "resolve",
  createdAt: "2031-05-01T08:00:00.000Z",
  runs: Array.from({ length: devices }, (_, i) => ({
    deviceId: `site-a-${i}`,
    runId: `resolve-site-a-${i}-01J00000000000000000000000`,
  })),
});

describe("job store", () => {
  it("keeps a job of a thousand devices in one item, in order", async () => {
    await store.create(job("job-1", 1000));
    const stored = await store.get("job-1");
    expect(stored?.runs).toHaveLength(1000);
    expect(stored?.runs[999]).toEqual({
      deviceId: "site-a-999",
      runId: "resolve-site-a-999-01J00000000000000000000000",
    });
  });

  it("creates a job once", async () => {
    await store.create(job("job-2", 1));
    await expect(store.create(job("job-2", 2))).rejects.toThrow();
    expect((await store.get("job-2"))?.runs).toHaveLength(1);
  });

  it("keeps the outcomes of ended runs", async () => {
    const created = job("job-3", 2);
    await store.create(created);
    const [first, second] = created.runs;
    await store.settle("job-3", [
      {
        ...(first as JobRecord["runs"][number]),
        outcome: { status: "FAILED", error: "Keyheal.Failed", cause: "no" },
      },
      second as JobRecord["runs"][number],
    ]);
    const stored = await store.get("job-3");
    expect(stored?.runs.map((r) => r.outcome?.status ?? null)).toEqual(["FAILED", null]);
    await expect(store.settle("job-missing", [])).rejects.toThrow();
  });

  it("forgets a job once it has expired", async () => {
    await store.create(job("job-4", 1));
    now = Date.parse("2031-08-15T08:00:00Z");
    expect(await store.get("job-4")).toBeUndefined();
  });
});
