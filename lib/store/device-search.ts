import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { AuthStatus, Device, Page } from "../devices/types.ts";
import { type DeviceTable, toDevice } from "./device-item.ts";
import { checkCursorKey, decodeOpaque, encodeOpaque, type Item, readPage } from "./dynamo-util.ts";
import { InvalidCursorError } from "./errors.ts";
import { DEVICE_KIND, keyAttributesOf, TABLES } from "./tables.ts";

/**
 * The search indexes in the order a search reads them, each with the attribute it matches on.
 * A device matching several is listed once, by the first: later sources filter out what an
 * earlier one already gave, so no device repeats across pages.
 */
const SEARCH_SOURCES = [
  { index: "byName", key: "nameKey" },
  { index: "byHost", key: "hostKey" },
  { index: "byAdmin", key: "adminKey" },
] as const;

type SearchSource = (typeof SEARCH_SOURCES)[number];

/** `<lower-cased value>#<id>`: sorts by the value, stays unique, and matches a lower-cased prefix. */
function searchKey(value: string, id: string): string {
  return `${value.toLowerCase()}#${id}`;
}

/** The search keys of a device, written with every registration. */
export function searchKeys(device: { id: string; host: string; adminUser: string }) {
  return {
    kind: DEVICE_KIND,
    nameKey: searchKey(device.id, device.id),
    hostKey: searchKey(device.host, device.id),
    adminKey: searchKey(device.adminUser, device.id),
  };
}

/**
 * A device item written before the search indexes existed, with its search keys filled in
 * (raw attribute values; used when the local runtime rebuilds an old table).
 */
export function withSearchKeys(
  item: Record<string, AttributeValue>,
): Record<string, AttributeValue> {
  const id = item.id?.S;
  const host = item.host?.S;
  const adminUser = item.adminUser?.S;
  if (item.kind || id === undefined || host === undefined || adminUser === undefined) return item;
  const keys = searchKeys({ id, host, adminUser });
  return {
    ...item,
    kind: { S: keys.kind },
    nameKey: { S: keys.nameKey },
    hostKey: { S: keys.hostKey },
    adminKey: { S: keys.adminKey },
  };
}

/** Where a search stopped: which source, and where in it (null: at its start). */
interface SearchCursor {
  source: number;
  key: Record<string, unknown> | null;
}

function decodeSearchCursor(cursor: string | undefined): SearchCursor {
  if (cursor === undefined || cursor === "") return { source: 0, key: null };
  const candidate = decodeOpaque(cursor) as Partial<SearchCursor> | null;
  const source = candidate?.source;
  const key = candidate?.key;
  if (
    typeof source !== "number" ||
    !Number.isInteger(source) ||
    source < 0 ||
    source >= SEARCH_SOURCES.length ||
    key === undefined ||
    (key !== null && (typeof key !== "object" || Array.isArray(key)))
  ) {
    throw new InvalidCursorError();
  }
  if (key !== null) {
    const { index } = SEARCH_SOURCES[source] as SearchSource;
    // Checked like any other cursor: exactly the key attributes of that index.
    checkCursorKey(key, keyAttributesOf(TABLES.devices, index), { kind: DEVICE_KIND });
  }
  return { source, key };
}

/**
 * Devices whose id, then host, then admin user starts with `text` (any case): one begins_with
 * Query per index, read in turn, the cursor saying which index and where in it.
 */
export async function searchDevices(
  table: DeviceTable,
  text: string,
  status: AuthStatus | undefined,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Device>> {
  const prefix = text.toLowerCase();
  const items: Item[] = [];
  let { source, key } = decodeSearchCursor(cursor);
  while (source < SEARCH_SOURCES.length) {
    const { index, key: attribute } = SEARCH_SOURCES[source] as SearchSource;
    const names: Record<string, string> = { "#kind": "kind", "#sk": attribute };
    const filters: string[] = [];
    for (const earlier of SEARCH_SOURCES.slice(0, source)) {
      names[`#${earlier.key}`] = earlier.key;
      filters.push(`NOT begins_with(#${earlier.key}, :prefix)`);
    }
    if (status !== undefined) {
      names["#status"] = "status";
      filters.push("#status = :status");
    }
    const page = await readPage(
      table.client,
      {
        query: {
          TableName: table.tableName,
          IndexName: index,
          KeyConditionExpression: "#kind = :kind AND begins_with(#sk, :prefix)",
          ...(filters.length > 0 ? { FilterExpression: filters.join(" AND ") } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ":kind": DEVICE_KIND,
            ":prefix": prefix,
            ...(status === undefined ? {} : { ":status": status }),
          },
        },
      },
      limit - items.length,
      (key ?? undefined) as Parameters<typeof readPage>[3],
    );
    items.push(...page.items);
    if (page.lastKey) {
      return {
        items: items.map(toDevice),
        nextCursor: encodeOpaque({ source, key: page.lastKey }),
      };
    }
    source += 1;
    key = null;
    if (items.length >= limit) break;
  }
  const nextCursor =
    source < SEARCH_SOURCES.length ? encodeOpaque({ source, key: null }) : undefined;
  return { items: items.map(toDevice), nextCursor };
}
