import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  AUTH_STATUSES,
  type AuthStatus,
  type Device,
  type DeviceListQuery,
  type Page,
} from "../devices/types.ts";
import { type DeviceTable, toDevice } from "./device-item.ts";
import { searchDevices } from "./device-search.ts";
import { listPage, pageSize } from "./dynamo-util.ts";
import { DEVICE_KIND, TABLES } from "./tables.ts";

const design = TABLES.devices;

/**
 * A search through the search indexes (device-search.ts); by status through `byStatus` (ordered
 * by id); sorted through `byName`; otherwise all devices through a plain scan.
 */
export async function listDevices(
  table: DeviceTable,
  query: DeviceListQuery = {},
): Promise<Page<Device>> {
  const limit = pageSize(query.limit);
  if (query.search !== undefined) {
    return searchDevices(table, query.search, query.status, limit, query.cursor);
  }
  const cursor = query.cursor;
  if (query.status !== undefined) {
    const request = {
      TableName: table.tableName,
      IndexName: "byStatus",
      KeyConditionExpression: "#status = :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": query.status },
    };
    const window = { limit, cursor, fixed: { status: query.status } };
    return listPage(table.client, { query: request }, design, window, toDevice);
  }
  if (query.sorted === true) {
    const request = {
      TableName: table.tableName,
      IndexName: "byName",
      KeyConditionExpression: "#kind = :kind",
      ExpressionAttributeNames: { "#kind": "kind" },
      ExpressionAttributeValues: { ":kind": DEVICE_KIND },
    };
    const window = { limit, cursor, fixed: { kind: DEVICE_KIND } };
    return listPage(table.client, { query: request }, design, window, toDevice);
  }
  const scan = { TableName: table.tableName };
  return listPage(table.client, { scan }, design, { limit, cursor }, toDevice);
}

/**
 * One COUNT query per status on `byStatus`, page by page: DynamoDB counts on its side and
 * returns no items, so a large fleet costs its keys' read units but no transfer.
 */
export async function countDevicesByStatus(
  table: DeviceTable,
): Promise<Record<AuthStatus, number>> {
  const counts = await Promise.all(
    AUTH_STATUSES.map(async (status) => {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await table.client.send(
          new QueryCommand({
            TableName: table.tableName,
            IndexName: "byStatus",
            KeyConditionExpression: "#status = :status",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":status": status },
            Select: "COUNT",
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        count += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return [status, count] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<AuthStatus, number>;
}
