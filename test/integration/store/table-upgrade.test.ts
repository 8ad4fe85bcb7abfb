/**
 * A data directory made by an older keyheal: its devices table lacks the search indexes, and its
 * items lack the search keys. Starting the runtime rebuilds the table and loses no device.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DynamoDeviceStore, withSearchKeys } from "../../../lib/store/dynamo-device-store.ts";
import { createTableInput, createTables, TABLES, tableNames } from "../../../lib/store/tables.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => dynamo?.stop());

it("a devices table from before the search indexes is rebuilt at start, every device kept and found", async () => {
  const names = tableNames(`kh-old-${Date.now()}`);
  const { byName: _n, byHost: _h, byAdmin: _a, ...olderIndexes } = TABLES.devices.indexes;
  const older = { ...TABLES.devices, indexes: olderIndexes };
  await dynamo.client.send(new CreateTableCommand(createTableInput(older, names.devices)));
  const store = new DynamoDeviceStore({ client: dynamo.client, tableName: names.devices });
  for (let i = 0; i < 30; i++) {
    await store.register({ id: `old-${i}`, host: `10.0.0.${i}`, port: 22, adminUser: "ops" });
    await dynamo.client.send(
      new UpdateCommand({
        TableName: names.devices,
        Key: { id: `old-${i}` },
        UpdateExpression: "REMOVE kind, nameKey, hostKey, adminKey",
      }),
    );
  }

  await createTables(dynamo.client, names, { upgrade: { devices: withSearchKeys } });

  const listed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ sorted: true, limit: 7, ...(cursor ? { cursor } : {}) });
    listed.push(...page.items.map((d) => d.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  expect(listed).toHaveLength(30);
  expect(new Set(listed).size).toBe(30);
  const found = await store.list({ search: "old-1" });
  expect(found.items.map((d) => d.id).sort()).toEqual(
    ["old-1", ...Array.from({ length: 10 }, (_, i) => `old-1${i}`)].sort(),
  );
});
