/**
 * The table design as data: key attributes, indexes and TTL of every keyheal table. The DynamoDB
 * adapters build their requests from it, the CDK stack builds its tables from it, and
 * {@link createTables} builds them in local mode and in tests, so the three cannot drift apart.
 *
 * @module
 */
import {
  type AttributeDefinition,
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { StoreError } from "./errors.ts";

/** A key attribute: its name and DynamoDB scalar type. */
export interface KeyAttribute {
  name: string;
  type: "S" | "N";
}

export interface IndexDesign {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDesign {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Global secondary indexes, all projecting every attribute. */
  indexes: Readonly<Record<string, IndexDesign>>;
  /** Epoch-seconds attribute DynamoDB's TTL deletes by (lazily: readers must filter too). */
  ttlAttribute?: string;
}

/** Value of the constant `kind` partition of the failures `byTime` index. */
export const FAILURE_KIND = "FAILURE";
/** Value of the constant `kind` partition of the devices' sorted and search indexes. */
export const DEVICE_KIND = "DEVICE";
/** Value of the constant `kind` partition key of the keys table. */
export const KEY_KIND = "PLATFORM_KEY";

/**
 * Failures carry `sk = "<occurredAt ISO>#<id>"` as the sort key of all three indexes, so a time
 * range is a key condition and ties on the same millisecond stay distinct and ordered by ULID.
 */
export const TABLES = {
  /**
   * Devices carry `nameKey`, `hostKey` and `adminKey` (`<lower-cased value>#<id>`): a search by
   * prefix of the id, host or admin user is one Query with begins_with on its index, and
   * `byName` lists the fleet sorted by id. One constant partition each: devices are written
   * rarely (registration), far below a partition's limits.
   */
  devices: {
    partitionKey: { name: "id", type: "S" },
    indexes: {
      byStatus: { partitionKey: { name: "status", type: "S" }, sortKey: { name: "id", type: "S" } },
      byName: {
        partitionKey: { name: "kind", type: "S" },
        sortKey: { name: "nameKey", type: "S" },
      },
      byHost: {
        partitionKey: { name: "kind", type: "S" },
        sortKey: { name: "hostKey", type: "S" },
      },
      byAdmin: {
        partitionKey: { name: "kind", type: "S" },
        sortKey: { name: "adminKey", type: "S" },
      },
    },
  },
  failures: {
    partitionKey: { name: "id", type: "S" },
    indexes: {
      byDevice: {
        partitionKey: { name: "deviceId", type: "S" },
        sortKey: { name: "sk", type: "S" },
      },
      byCause: { partitionKey: { name: "cause", type: "S" }, sortKey: { name: "sk", type: "S" } },
      // One constant partition: failure write rates are far below a partition's 1,000 WCU.
      byTime: { partitionKey: { name: "kind", type: "S" }, sortKey: { name: "sk", type: "S" } },
    },
    ttlAttribute: "expiresAt",
  },
  keys: {
    // A constant partition with the generation as sort key: "newest first" is one Query.
    partitionKey: { name: "kind", type: "S" },
    sortKey: { name: "generation", type: "N" },
    indexes: {},
  },
  runs: {
    partitionKey: { name: "id", type: "S" },
    indexes: {
      // Sparse: runs without a device (a rotation) are not in it.
      byDevice: {
        partitionKey: { name: "deviceId", type: "S" },
        sortKey: { name: "startedAt", type: "S" },
      },
    },
    ttlAttribute: "expiresAt",
  },
  /** An operator's action over many devices (a resolve): its runs, read back for progress. */
  jobs: {
    partitionKey: { name: "id", type: "S" },
    indexes: {},
    ttlAttribute: "expiresAt",
  },
} as const satisfies Record<string, TableDesign>;

export type TableKind = keyof typeof TABLES;

/** Physical table names, one per {@link TABLES} entry. */
export type TableNames = Record<TableKind, string>;

/** `<prefix>-devices`, `<prefix>-failures`, … */
export function tableNames(prefix = "keyheal"): TableNames {
  return {
    devices: `${prefix}-devices`,
    failures: `${prefix}-failures`,
    keys: `${prefix}-keys`,
    runs: `${prefix}-runs`,
    jobs: `${prefix}-jobs`,
  };
}

/** Names of the attributes in a LastEvaluatedKey of a query on `index` (or of the base table). */
export function keyAttributesOf(table: TableDesign, index?: string): string[] {
  const names = new Set<string>([table.partitionKey.name]);
  if (table.sortKey) names.add(table.sortKey.name);
  if (index !== undefined) {
    const design = table.indexes[index];
    if (!design) throw new StoreError(`no index ${index}`);
    names.add(design.partitionKey.name);
    if (design.sortKey) names.add(design.sortKey.name);
  }
  return [...names];
}

function keySchema(key: { partitionKey: KeyAttribute; sortKey?: KeyAttribute }) {
  const schema: KeySchemaElement[] = [{ AttributeName: key.partitionKey.name, KeyType: "HASH" }];
  if (key.sortKey) schema.push({ AttributeName: key.sortKey.name, KeyType: "RANGE" });
  return schema;
}

/** The CreateTable request for `design` named `tableName` (on-demand billing). */
export function createTableInput(design: TableDesign, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const define = (a: KeyAttribute | undefined) => {
    if (a) attributes.set(a.name, { AttributeName: a.name, AttributeType: a.type });
  };
  define(design.partitionKey);
  define(design.sortKey);
  const indexes: GlobalSecondaryIndex[] = Object.entries(design.indexes).map(([name, index]) => {
    define(index.partitionKey);
    define(index.sortKey);
    return { IndexName: name, KeySchema: keySchema(index), Projection: { ProjectionType: "ALL" } };
  });
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(design),
    ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
  };
}

/** Either client works: the document client forwards plain DynamoDB commands. */
type AnyDynamoClient = DynamoDBClient | DynamoDBDocumentClient;

/**
 * Creates every keyheal table that does not exist yet, waits until each and its indexes are
 * ACTIVE, and enables TTL where the engine supports it (dynalite does not; readers filter expired
 * items anyway). Idempotent.
 */
export async function createTables(
  client: AnyDynamoClient,
  names: TableNames,
  options: {
    timeoutMs?: number;
    /** Rewrites an item kept across a rebuild (fills attributes a new index reads). */
    upgrade?: Partial<
      Record<TableKind, (item: Record<string, AttributeValue>) => Record<string, AttributeValue>>
    >;
  } = {},
): Promise<void> {
  const send = client.send.bind(client) as DynamoDBClient["send"];
  await Promise.all(
    (Object.keys(TABLES) as TableKind[]).map(async (kind) => {
      const design: TableDesign = TABLES[kind];
      const tableName = names[kind];
      try {
        await send(new CreateTableCommand(createTableInput(design, tableName)));
      } catch (error) {
        if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
        await waitUntilActive(send, tableName, options.timeoutMs ?? 120_000);
        await rebuildIfIndexesMissing(
          send,
          design,
          tableName,
          options.upgrade?.[kind],
          options.timeoutMs,
        );
      }
      await waitUntilActive(send, tableName, options.timeoutMs ?? 120_000);
      if (design.ttlAttribute) await enableTtl(send, tableName, design.ttlAttribute);
    }),
  );
}

/**
 * A table made by an older keyheal lacks the indexes added since. The embedded engine cannot add
 * an index to a table, so the table is rebuilt: every item is read, the table made anew with the
 * current design, and every item written back (through `upgrade`, which fills the attributes the
 * new indexes read). Meant for the local runtime's own data directory, at start, before any run.
 */
async function rebuildIfIndexesMissing(
  send: DynamoDBClient["send"],
  design: TableDesign,
  tableName: string,
  upgrade: ((item: Record<string, AttributeValue>) => Record<string, AttributeValue>) | undefined,
  timeoutMs = 120_000,
): Promise<void> {
  const { Table } = await send(new DescribeTableCommand({ TableName: tableName }));
  const have = new Set((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const wanted = Object.keys(design.indexes ?? {});
  if (wanted.every((name) => have.has(name))) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await send(new DeleteTableCommand({ TableName: tableName }));
  for (let i = 0; ; i++) {
    try {
      await send(new CreateTableCommand(createTableInput(design, tableName)));
      break;
    } catch (error) {
      // The engine may still be deleting the old table.
      if (!(error instanceof Error && error.name === "ResourceInUseException") || i > 50)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await waitUntilActive(send, tableName, timeoutMs);
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((item) => ({
      PutRequest: { Item: upgrade ? upgrade(item) : item },
    }));
    let unprocessed: typeof batch | undefined = batch;
    while (unprocessed && unprocessed.length > 0) {
      const out = await send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: unprocessed } }),
      );
      unprocessed = out.UnprocessedItems?.[tableName] as typeof batch | undefined;
    }
  }
}

async function waitUntilActive(send: DynamoDBClient["send"], tableName: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (i) => i.IndexStatus === "ACTIVE",
    );
    if (Table?.TableStatus === "ACTIVE" && indexesActive) return;
    if (Date.now() > deadline) {
      throw new StoreError(`table ${tableName} did not become ACTIVE within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function enableTtl(send: DynamoDBClient["send"], tableName: string, attribute: string) {
  try {
    const { TimeToLiveDescription: ttl } = await send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    if (ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING") return;
    await send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite implements no TTL; the store's FilterExpression hides expired items regardless.
    if (error instanceof Error && error.name === "UnknownOperationException") return;
    throw error;
  }
}
