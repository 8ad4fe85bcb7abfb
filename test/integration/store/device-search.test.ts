/**
 * Issue 14.9: devices found by the start of their id, host or admin user, and listed sorted by
 * id, each through an index: the store is watched and must send only Queries, never a Scan.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Device, DeviceListQuery } from "../../../lib/devices/types.ts";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import { InvalidCursorError } from "../../../lib/store/errors.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
let store: DynamoDeviceStore;
const sent: { command: string; index: unknown }[] = [];

const FLEET = [
  { id: "web-2", host: "10.0.0.12", adminUser: "ops" },
  { id: "Web-1", host: "10.0.0.11", adminUser: "ops" },
  { id: "db-1", host: "web-db.internal", adminUser: "dba" },
  { id: "cache-1", host: "10.0.1.5", adminUser: "webadmin" },
  { id: "edge-1", host: "EDGE.example.com", adminUser: "edge" },
  { id: "api-1", host: "10.0.2.7", adminUser: "ops" },
];

beforeAll(async () => {
  dynamo = await startDynamo();
  const tableName = (await dynamo.newTables()).devices;
  const watched = {
    send: (command: { constructor: { name: string }; input: { IndexName?: unknown } }) => {
      sent.push({ command: command.constructor.name, index: command.input.IndexName });
      return dynamo.client.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  store = new DynamoDeviceStore({ client: watched, tableName });
  for (const device of FLEET) await store.register({ ...device, port: 22 });
  await store.update("db-1", { status: "KEY_CONFLICT" });
  await store.update("Web-1", { status: "KEY_CONFLICT" });
});
afterAll(async () => {
  await dynamo?.stop();
});

/** Every page of a listing, `limit` at a time; what each request was sent as. */
async function everyPage(query: DeviceListQuery, limit: number) {
  sent.length = 0;
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages += 1) {
    const page = await store.list({ ...query, limit, ...(cursor ? { cursor } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((device: Device) => device.id));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return { ids, sent: [...sent] };
}

describe("device search and order", () => {
  it("issue 14.9: lists every device sorted by id (any case) through the byName index", async () => {
    const { ids, sent } = await everyPage({ sorted: true }, 4);
    expect(ids).toEqual(["api-1", "cache-1", "db-1", "edge-1", "Web-1", "web-2"]);
    expect(new Set(sent.map((each) => `${each.command} ${each.index}`))).toEqual(
      new Set(["QueryCommand byName"]),
    );
  });

  it("issue 14.9: finds devices by the start of id, host or admin user, any case, each once, with queries only", async () => {
    for (const limit of [1, 2, 10]) {
      const { ids, sent } = await everyPage({ search: "WEB" }, limit);
      // By id first (Web-1, web-2), then by host (db-1), then by admin user (cache-1).
      expect({ limit, ids }).toEqual({ limit, ids: ["Web-1", "web-2", "db-1", "cache-1"] });
      expect(sent.every((each) => each.command === "QueryCommand")).toBe(true);
      expect(new Set(sent.map((each) => each.index))).toEqual(
        new Set(["byName", "byHost", "byAdmin"]),
      );
    }
    expect((await everyPage({ search: "10.0.0." }, 10)).ids).toEqual(["Web-1", "web-2"]);
    expect((await everyPage({ search: "edge.EX" }, 10)).ids).toEqual(["edge-1"]);
    expect((await everyPage({ search: "nothing" }, 10)).ids).toEqual([]);
  });

  it("issue 14.9: a search narrowed to one status keeps only those devices", async () => {
    expect((await everyPage({ search: "web", status: "KEY_CONFLICT" }, 1)).ids).toEqual([
      "Web-1",
      "db-1",
    ]);
  });

  it("issue 14.9: a search follows a change of host", async () => {
    await store.register({ id: "api-1", host: "webhook.internal", port: 22, adminUser: "ops" });
    expect((await everyPage({ search: "webhook" }, 10)).ids).toEqual(["api-1"]);
    expect((await everyPage({ search: "10.0.2" }, 10)).ids).toEqual([]);
  });

  it("issue 14.9: a tampered search cursor is refused", async () => {
    for (const cursor of ["!!", Buffer.from('{"source":7,"key":null}').toString("base64url")]) {
      await expect(store.list({ search: "web", cursor })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
  });
});
