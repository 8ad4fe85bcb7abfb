// Fixed dates lie in the real future: DynamoDB Local runs TTL deletion against the real clock.
import { decodeTime, isValid } from "ulid";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Cause, hintFor } from "../../../lib/failures/causes.ts";
import type { FailureQuery, FailureRecord, NewFailure } from "../../../lib/failures/types.ts";
import { DynamoFailureStore } from "../../../lib/store/dynamo-failure-store.ts";
import {
  InvalidCursorError,
  NotFoundError,
  UnprocessedItemsError,
} from "../../../lib/store/errors.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2031-03-01T00:00:00.000Z");
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();

let dynamo: DynamoHarness;
let store: DynamoFailureStore;
let now: number;
let tableName: string;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  now = T0 + 10 * DAY;
  tableName = (await dynamo.newTables()).failures;
  store = new DynamoFailureStore({ client: dynamo.client, tableName, clock: () => now });
});

function failure(deviceId: string, cause: Cause, hours: number): NewFailure {
  return {
    deviceId,
    operation: "DETECT",
    cause,
    message: `${cause} on ${deviceId}`,
    attempt: 1,
    keyGeneration: 2,
    runId: `run-${hours}`,
    occurredAt: at(hours),
  };
}

/** 12 failures, one an hour: devices a/b/c in turn, causes TIMEOUT/AUTH_REJECTED/… in turn. */
const CAUSES: Cause[] = ["TIMEOUT", "AUTH_REJECTED", "TIMEOUT", "CONNECTION_REFUSED"];
async function seed(): Promise<FailureRecord[]> {
  const records: FailureRecord[] = [];
  for (let h = 0; h < 12; h++) {
    records.push(
      await store.record(failure(["a", "b", "c"][h % 3] as string, CAUSES[h % 4] as Cause, h)),
    );
  }
  return records;
}

/** `n` failures of device `d`, one a minute from T0, causes TIMEOUT and AUTH_REJECTED in turn. */
async function many(n: number): Promise<FailureRecord[]> {
  const records: FailureRecord[] = [];
  for (let i = 0; i < n; i++) {
    const cause = i % 2 === 0 ? "TIMEOUT" : "AUTH_REJECTED";
    records.push(await store.record(failure("d", cause, i / 60)));
  }
  return records;
}

type BatchInput = {
  RequestItems: Record<string, Array<{ DeleteRequest?: { Key: { id: unknown } } }>>;
};

/**
 * Throttles the engine as DynamoDB does under load: every BatchWriteItem call has the requests
 * `hold` picks left out and answered back as UnprocessedItems, unsent. Returns how to stop.
 */
function throttleBatchWrites(hold: (requests: unknown[]) => unknown[]): () => void {
  const name = "keyhealThrottleBatchWrites";
  dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "BatchWriteItemCommand") return next(args);
      const input = args.input as BatchInput;
      const [table, requests] = Object.entries(input.RequestItems)[0] ?? ["", []];
      const held = hold(requests);
      const sent = requests.filter((r) => !held.includes(r));
      const result =
        sent.length > 0
          ? await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } })
          : { output: { $metadata: {} }, response: {} };
      const output = result.output as { UnprocessedItems?: Record<string, unknown[]> };
      if (held.length > 0) output.UnprocessedItems = { [table]: held };
      return result;
    },
    { step: "initialize", name },
  );
  return () => dynamo.client.middlewareStack.remove(name);
}

/** Every page of a listing, checking each respects the limit. */
async function listAll(query: FailureQuery, limit: number) {
  const pages: FailureRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

const newestFirst = (records: FailureRecord[]) =>
  [...records].sort((x, y) => y.occurredAt.localeCompare(x.occurredAt)).map((r) => r.id);

describe("failure store", () => {
  it("records a failure with a time-sortable id, the cause's hint and a 90-day expiry", async () => {
    const record = await store.record(failure("a", "SECURITY_GROUP_BLOCKS_SSH", 5));
    expect(isValid(record.id)).toBe(true);
    expect(decodeTime(record.id)).toBe(T0 + 5 * HOUR);
    expect(record.hint).toBe(hintFor("SECURITY_GROUP_BLOCKS_SSH"));
    expect(record.expiresAt).toBe((T0 + 5 * HOUR) / 1000 + 90 * 24 * 3600);
    expect(await store.get(record.id)).toEqual(record);
  });

  it("lists every failure newest first across pages", async () => {
    const records = await seed();
    const pages = await listAll({}, 5);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.flat().map((r) => r.id)).toEqual(newestFirst(records));
  });

  it("lists one device's failures, optionally of one cause, across pages", async () => {
    const records = await seed();
    const ofB = records.filter((r) => r.deviceId === "b");
    expect((await listAll({ deviceId: "b" }, 2)).flat().map((r) => r.id)).toEqual(newestFirst(ofB));
    const ofBTimeout = ofB.filter((r) => r.cause === "TIMEOUT");
    expect(ofBTimeout.length).toBeGreaterThan(0);
    expect((await listAll({ deviceId: "b", cause: "TIMEOUT" }, 1)).flat().map((r) => r.id)).toEqual(
      newestFirst(ofBTimeout),
    );
  });

  it("lists one cause's failures across pages", async () => {
    const records = await seed();
    const timeouts = records.filter((r) => r.cause === "TIMEOUT");
    expect((await listAll({ cause: "TIMEOUT" }, 2)).flat().map((r) => r.id)).toEqual(
      newestFirst(timeouts),
    );
  });

  it("a time range is inclusive at both ends, with and without other filters", async () => {
    const records = await seed();
    const inRange = (r: FailureRecord) => r.occurredAt >= at(3) && r.occurredAt <= at(7);
    expect((await listAll({ since: at(3), until: at(7) }, 2)).flat().map((r) => r.id)).toEqual(
      newestFirst(records.filter(inRange)),
    );
    expect(
      (await listAll({ deviceId: "a", since: at(3), until: at(7) }, 10)).flat().map((r) => r.id),
    ).toEqual(newestFirst(records.filter((r) => inRange(r) && r.deviceId === "a")));
    expect(
      (await listAll({ cause: "TIMEOUT", since: at(3), until: at(7) }, 10)).flat().map((r) => r.id),
    ).toEqual(newestFirst(records.filter((r) => inRange(r) && r.cause === "TIMEOUT")));
    expect((await store.list({ since: at(10) })).items.map((r) => r.id)).toEqual(
      newestFirst(records.filter((r) => r.occurredAt >= at(10))),
    );
    expect((await store.list({ until: at(1) })).items.map((r) => r.id)).toEqual(
      newestFirst(records.filter((r) => r.occurredAt <= at(1))),
    );
    expect(await store.list({ since: at(8), until: at(2) })).toEqual({ items: [] });
  });

  it("hides expired records from get, list and counts, though DynamoDB has not deleted them", async () => {
    const old = await store.record(failure("a", "TIMEOUT", -91 * 24));
    const live = await store.record(failure("a", "TIMEOUT", 1));
    expect(await store.get(old.id)).toBeUndefined();
    expect((await store.list({})).items.map((r) => r.id)).toEqual([live.id]);
    expect((await store.list({ deviceId: "a" })).items.map((r) => r.id)).toEqual([live.id]);
    expect((await store.list({ cause: "TIMEOUT" })).items.map((r) => r.id)).toEqual([live.id]);
    expect(await store.countByCause({})).toEqual({ TIMEOUT: 1 });
    // Time passes: the live one expires too.
    now = T0 + HOUR + 90 * DAY;
    expect(await store.list({})).toEqual({ items: [] });
  });

  it("pages stay full when expired records sit between live ones", async () => {
    const shortLived = new DynamoFailureStore({
      client: dynamo.client,
      tableName,
      ttlSeconds: 24 * 3600,
      clock: () => now,
    });
    for (let h = 0; h < 6; h++) {
      await store.record(failure("a", "TIMEOUT", h));
      await shortLived.record(failure("a", "TIMEOUT", h + 0.5));
    }
    const first = await store.list({ limit: 4 });
    expect(first.items).toHaveLength(4);
    const second = await store.list({ limit: 4, cursor: first.nextCursor });
    expect(second.items).toHaveLength(2);
  });

  it("deleteMany deletes what the filter matches and returns the count", async () => {
    const records = await seed();
    const deleted = await store.deleteMany({ deviceId: "c", cause: "TIMEOUT" });
    const expected = records.filter((r) => r.deviceId === "c" && r.cause === "TIMEOUT");
    expect(deleted).toBe(expected.length);
    expect(deleted).toBeGreaterThan(0);
    const left = (await listAll({}, 100)).flat();
    expect(left).toHaveLength(records.length - expected.length);
    expect(left.some((r) => r.deviceId === "c" && r.cause === "TIMEOUT")).toBe(false);

    expect(await store.deleteMany({ since: at(9) })).toBe(
      left.filter((r) => r.occurredAt >= at(9)).length,
    );
    expect(await store.deleteMany({})).toBe(left.filter((r) => r.occurredAt < at(9)).length);
    expect(await store.list({})).toEqual({ items: [] });
    expect(await store.deleteMany({})).toBe(0);
  });

  it("issue 12.5: delete-all sends one BatchWriteItem per 25 records, not one DeleteItem per record", async () => {
    const records = await many(60);
    dynamo.commands.length = 0;
    expect(await store.deleteSome({ cause: "TIMEOUT" }, 26)).toEqual({ deleted: 26, more: true });
    expect(dynamo.commands.filter((c) => c === "BatchWriteItemCommand")).toHaveLength(2);
    expect(await store.deleteMany({})).toBe(records.length - 26);
    expect(dynamo.commands.filter((c) => c === "BatchWriteItemCommand")).toHaveLength(2 + 2);
    expect(dynamo.commands).not.toContain("DeleteCommand");
    expect(await store.list({})).toEqual({ items: [] });
    expect(await store.deleteSome({}, 200)).toEqual({ deleted: 0, more: false });
  });

  it("issue 12.5: records the engine leaves unprocessed are sent again until deleted, and counted once", async () => {
    const records = await many(40);
    // Each record is held back the first time it is sent, the last 7 of every call.
    const heldOnce = new Set<unknown>();
    const idOf = (r: unknown) =>
      JSON.stringify((r as { DeleteRequest: { Key: unknown } }).DeleteRequest.Key);
    const stop = throttleBatchWrites((requests) => {
      const held = requests.slice(-7).filter((r) => !heldOnce.has(idOf(r)));
      for (const r of held) heldOnce.add(idOf(r));
      return held;
    });
    try {
      expect(await store.deleteSome({}, 30)).toEqual({ deleted: 30, more: true });
      expect(await store.deleteMany({})).toBe(10);
    } finally {
      stop();
    }
    expect(heldOnce.size).toBeGreaterThan(0);
    expect(await store.list({})).toEqual({ items: [] });
    expect(records).toHaveLength(40);
  });

  it("issue 12.5: a delete the engine keeps throttling fails with UnprocessedItemsError and leaves the records", async () => {
    const records = await many(5);
    const stop = throttleBatchWrites((requests) => requests);
    try {
      const failed = store.deleteMany({});
      await expect(failed).rejects.toBeInstanceOf(UnprocessedItemsError);
      await expect(failed).rejects.toThrow(
        /5 writes to .* left unprocessed .* run the request again/,
      );
    } finally {
      stop();
    }
    expect((await store.list({})).items.map((r) => r.id)).toEqual(newestFirst(records));
  });

  it("counts failures by cause over a time range", async () => {
    await seed();
    expect(await store.countByCause({})).toEqual({
      TIMEOUT: 6,
      AUTH_REJECTED: 3,
      CONNECTION_REFUSED: 3,
    });
    // Hours 4..7: TIMEOUT, AUTH_REJECTED, TIMEOUT, CONNECTION_REFUSED.
    expect(await store.countByCause({ since: at(4), until: at(7) })).toEqual({
      TIMEOUT: 2,
      AUTH_REJECTED: 1,
      CONNECTION_REFUSED: 1,
    });
  });

  it("delete removes one record; markRetried links the retry run", async () => {
    const [first, second] = await seed();
    expect(await store.delete(first?.id as string)).toBe(true);
    expect(await store.delete(first?.id as string)).toBe(false);
    await store.markRetried(second?.id as string, "run-retry-1");
    expect(await store.get(second?.id as string)).toMatchObject({ retriedByRunId: "run-retry-1" });
    await expect(store.markRetried("01NOPE", "run-x")).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.get("01NOPE")).toBeUndefined();
  });

  it("refuses a cursor from another listing", async () => {
    await seed();
    const byDevice = await store.list({ deviceId: "a", limit: 1 });
    await expect(store.list({ deviceId: "b", cursor: byDevice.nextCursor })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(store.list({ cursor: byDevice.nextCursor })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    const late = await store.list({ since: at(8), limit: 1 });
    await expect(store.list({ until: at(4), cursor: late.nextCursor })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it("never scans for a filtered query: every filter is a Query on an index", async () => {
    await seed();
    dynamo.commands.length = 0;
    await listAll({ deviceId: "a" }, 2);
    await listAll({ deviceId: "a", cause: "TIMEOUT", since: at(1) }, 2);
    await listAll({ cause: "AUTH_REJECTED" }, 2);
    await listAll({ since: at(2), until: at(9) }, 2);
    await listAll({}, 5);
    await store.countByCause({ since: at(3) });
    await store.deleteMany({ cause: "CONNECTION_REFUSED" });
    expect(dynamo.commands).not.toContain("ScanCommand");
    expect(dynamo.commands).toContain("QueryCommand");
  });
});
