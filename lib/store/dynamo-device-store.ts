import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  AUTH_STATUSES,
  type AuthStatus,
  type Device,
  type DeviceListQuery,
  type DeviceRegistration,
  type DeviceStatusUpdate,
  type DeviceStore,
  type Page,
} from "../devices/types.ts";
import type { Cause } from "../failures/causes.ts";
import {
  type Clock,
  compact,
  decodeCursor,
  encodeCursor,
  type Item,
  isConditionalCheckFailed,
  pageSize,
  readPage,
  UpdateBuilder,
} from "./dynamo-util.ts";
import { InvalidCursorError, LeaseLostError, NotFoundError } from "./errors.ts";
import { DEVICE_KIND, keyAttributesOf, TABLES } from "./tables.ts";

export interface DynamoDeviceStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const design = TABLES.devices;

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

/** `<lower-cased value>#<id>`: sorts by the value, stays unique, and matches a lower-cased prefix. */
function searchKey(value: string, id: string): string {
  return `${value.toLowerCase()}#${id}`;
}

/** The search keys of a device, written with every registration. */
function searchKeys(device: { id: string; host: string; adminUser: string }) {
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

interface SearchCursor {
  source: number;
  key: Record<string, unknown> | null;
}

function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeSearchCursor(cursor: string | undefined): SearchCursor {
  if (cursor === undefined || cursor === "") return { source: 0, key: null };
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
  const candidate = parsed as Partial<SearchCursor> | null;
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
    const source_ = SEARCH_SOURCES[source] as (typeof SEARCH_SOURCES)[number];
    // Checked like any other cursor: exactly the key attributes of that index.
    decodeCursor(
      Buffer.from(JSON.stringify(key)).toString("base64url"),
      keyAttributesOf(design, source_.index),
      { kind: DEVICE_KIND },
    );
  }
  return { source, key };
}

/**
 * {@link DeviceStore} over one DynamoDB table keyed by device `id`, with a `byStatus` index.
 * The lease lives on the device item (`leaseOwner`, `leaseExpiresAt` in epoch ms) and is taken
 * and given back with single-item conditional writes only.
 */
export class DynamoDeviceStore implements DeviceStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: Clock;

  constructor(options: DynamoDeviceStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.now = options.clock ?? Date.now;
  }

  /**
   * Creates the device as UNKNOWN, or updates an existing one's address fields while keeping its
   * status, key generation and history. `instanceId`, `region` and `authorizedKeysPath` follow
   * the registration (absent → removed); a pinned `hostKeyFingerprint` is kept when the
   * registration gives none, since the pin may have been learnt on first contact.
   */
  async register(input: DeviceRegistration): Promise<Device> {
    const now = new Date(this.now()).toISOString();
    const update = new UpdateBuilder()
      .set({
        host: input.host,
        port: input.port,
        adminUser: input.adminUser,
        hostKeyFingerprint: input.hostKeyFingerprint,
        ...searchKeys(input),
        updatedAt: now,
      })
      .setIfMissing({
        status: "UNKNOWN" satisfies AuthStatus,
        keyGeneration: null,
        lastFailureCause: null,
        createdAt: now,
      });
    for (const name of ["instanceId", "region", "authorizedKeysPath"] as const) {
      const value = input[name];
      if (value === undefined) update.remove(name);
      else update.set({ [name]: value });
    }
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: input.id },
        ...update.build(),
        ReturnValues: "ALL_NEW",
      }),
    );
    return toDevice(Attributes ?? {});
  }

  async get(id: string): Promise<Device | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id } }),
    );
    return Item ? toDevice(Item) : undefined;
  }

  /**
   * A search through the search indexes; by status through `byStatus` (ordered by id); sorted
   * through `byName`; otherwise all devices through a plain scan.
   */
  async list(query: DeviceListQuery = {}): Promise<Page<Device>> {
    const limit = pageSize(query.limit);
    if (query.search !== undefined)
      return this.search(query.search, query.status, limit, query.cursor);
    if (query.status !== undefined) {
      const startKey = decodeCursor(query.cursor, keyAttributesOf(design, "byStatus"), {
        status: query.status,
      });
      const page = await readPage(
        this.client,
        {
          query: {
            TableName: this.tableName,
            IndexName: "byStatus",
            KeyConditionExpression: "#status = :status",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":status": query.status },
          },
        },
        limit,
        startKey,
      );
      return { items: page.items.map(toDevice), nextCursor: encodeCursor(page.lastKey) };
    }
    if (query.sorted === true) {
      const startKey = decodeCursor(query.cursor, keyAttributesOf(design, "byName"), {
        kind: DEVICE_KIND,
      });
      const page = await readPage(
        this.client,
        {
          query: {
            TableName: this.tableName,
            IndexName: "byName",
            KeyConditionExpression: "#kind = :kind",
            ExpressionAttributeNames: { "#kind": "kind" },
            ExpressionAttributeValues: { ":kind": DEVICE_KIND },
          },
        },
        limit,
        startKey,
      );
      return { items: page.items.map(toDevice), nextCursor: encodeCursor(page.lastKey) };
    }
    const startKey = decodeCursor(query.cursor, keyAttributesOf(design));
    const page = await readPage(
      this.client,
      { scan: { TableName: this.tableName } },
      limit,
      startKey,
    );
    return { items: page.items.map(toDevice), nextCursor: encodeCursor(page.lastKey) };
  }

  /**
   * Devices whose id, then host, then admin user starts with `text` (any case): one begins_with
   * Query per index, read in turn, the cursor saying which index and where in it.
   */
  private async search(
    text: string,
    status: AuthStatus | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<Device>> {
    const prefix = text.toLowerCase();
    const items: Item[] = [];
    let { source, key } = decodeSearchCursor(cursor);
    while (source < SEARCH_SOURCES.length) {
      const { index, key: attribute } = SEARCH_SOURCES[source] as (typeof SEARCH_SOURCES)[number];
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
        this.client,
        {
          query: {
            TableName: this.tableName,
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
          nextCursor: encodeSearchCursor({ source, key: page.lastKey }),
        };
      }
      source += 1;
      key = null;
      if (items.length >= limit) break;
    }
    const nextCursor =
      source < SEARCH_SOURCES.length ? encodeSearchCursor({ source, key: null }) : undefined;
    return { items: items.map(toDevice), nextCursor };
  }

  /**
   * One COUNT query per status on `byStatus`, page by page: DynamoDB counts on its side and
   * returns no items, so a large fleet costs its keys' read units but no transfer.
   */
  async countByStatus(): Promise<Record<AuthStatus, number>> {
    const counts = await Promise.all(
      AUTH_STATUSES.map(async (status) => {
        let count = 0;
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
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

  /**
   * @throws {NotFoundError} no device with this id.
   * @throws {LeaseLostError} `fence` names a run that does not hold the lease.
   */
  async update(
    id: string,
    update: DeviceStatusUpdate,
    fence?: { leaseOwner: string },
  ): Promise<Device> {
    const builder = new UpdateBuilder().set({
      status: update.status,
      keyGeneration: update.keyGeneration,
      keyProvenAt: update.keyProvenAt,
      statusBeforeRun: update.statusBeforeRun,
      hostKeyFingerprint: update.hostKeyFingerprint,
      lastFailureCause: update.lastFailureCause,
      lastCheckedAt: update.lastCheckedAt,
      updatedAt: new Date(this.now()).toISOString(),
    });
    let condition = `attribute_exists(${builder.name("id")})`;
    if (fence) {
      condition += ` AND ${builder.name("leaseOwner")} = ${builder.value(fence.leaseOwner)}`;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          ...builder.build(condition),
          ReturnValues: "ALL_NEW",
        }),
      );
      return toDevice(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = fence
        ? await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id } }))
        : { Item: undefined };
      if (fence && Item) {
        throw new LeaseLostError(id, fence.leaseOwner, Item.leaseOwner as string | undefined, {
          cause: error,
        });
      }
      throw new NotFoundError("device", id, { cause: error });
    }
  }

  async remove(id: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: "ALL_OLD" }),
    );
    return Attributes !== undefined;
  }

  /**
   * Takes the lease when nobody holds it, when the held one has expired, or when `owner` already
   * holds it (so a retried task of the same run is not locked out by its own first attempt).
   * False for an unknown device.
   */
  async acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.conditionalLeaseWrite(
      id,
      "SET #owner = :owner, #expires = :expires",
      "attribute_exists(#id) AND (attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner)",
      { "#id": "id", "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
      { ":owner": owner, ":expires": now + ttlMs, ":now": now },
    );
  }

  async extendLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.conditionalLeaseWrite(
      id,
      "SET #expires = :expires",
      "#owner = :owner",
      { "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
      { ":owner": owner, ":expires": this.now() + ttlMs },
    );
  }

  async releaseLease(id: string, owner: string): Promise<boolean> {
    return this.conditionalLeaseWrite(
      id,
      "REMOVE #owner, #expires",
      "#owner = :owner",
      { "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
      { ":owner": owner },
    );
  }

  async requestRecheck(id: string, asker: string): Promise<boolean> {
    return this.conditionalLeaseWrite(
      id,
      "SET #recheck = :true",
      "attribute_exists(#owner) AND #owner <> :asker AND #expires >= :now",
      { "#owner": "leaseOwner", "#expires": "leaseExpiresAt", "#recheck": "pendingRecheck" },
      { ":asker": asker, ":now": this.now(), ":true": true },
    );
  }

  async releaseLeaseTakingRecheck(
    id: string,
    owner: string,
  ): Promise<{ released: boolean; recheck: boolean }> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: "REMOVE #owner, #expires, #recheck",
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: {
            "#owner": "leaseOwner",
            "#expires": "leaseExpiresAt",
            "#recheck": "pendingRecheck",
          },
          ExpressionAttributeValues: { ":owner": owner },
          ReturnValues: "ALL_OLD",
        }),
      );
      return { released: true, recheck: Attributes?.pendingRecheck === true };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { released: false, recheck: false };
      throw error;
    }
  }

  private async conditionalLeaseWrite(
    id: string,
    updateExpression: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: updateExpression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function toDevice(item: Item): Device {
  return compact({
    id: item.id as string,
    host: item.host as string,
    port: item.port as number,
    adminUser: item.adminUser as string,
    instanceId: item.instanceId as string | undefined,
    region: item.region as string | undefined,
    hostKeyFingerprint: item.hostKeyFingerprint as string | undefined,
    authorizedKeysPath: item.authorizedKeysPath as string | undefined,
    status: item.status as AuthStatus,
    keyGeneration: (item.keyGeneration as number | null | undefined) ?? null,
    keyProvenAt: item.keyProvenAt as string | undefined,
    statusBeforeRun: item.statusBeforeRun as AuthStatus | undefined,
    lastFailureCause: (item.lastFailureCause as Cause | null | undefined) ?? null,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    lastCheckedAt: item.lastCheckedAt as string | undefined,
  });
}
