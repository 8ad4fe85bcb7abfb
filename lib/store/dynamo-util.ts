/**
 * Helpers shared by the DynamoDB adapters: cursors, paged reads, update expressions.
 * Internal to `lib/store`.
 */
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { Page } from "../paging/page.ts";
import { InvalidArgumentError, InvalidCursorError, UnprocessedItemsError } from "./errors.ts";
import { keyAttributesOf, type TableDesign } from "./tables.ts";

export type Item = Record<string, unknown>;
export type Key = Record<string, string | number>;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Epoch milliseconds; injectable so tests can place records and leases in time. */
export type Clock = () => number;

/** What a DynamoDB store is given: the client, its table and a clock. */
export interface TableOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Time to live of an item, for the stores whose items expire; default 90 days. */
  ttlSeconds?: number;
  clock?: Clock;
}

/** How long failures, runs and jobs are kept by default: 90 days. */
export const DEFAULT_TTL_SECONDS = 90 * 24 * 60 * 60;

/** Base of the DynamoDB stores: the client, the table's name, the clock and the items' life. */
export abstract class DynamoTable {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly tableName: string;
  protected readonly ttlSeconds: number;
  protected readonly now: Clock;

  constructor(options: TableOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.now = options.clock ?? Date.now;
  }
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** Opaque to callers: base64url of JSON. Every cursor of the store is one. */
export function encodeOpaque(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** The JSON an {@link encodeOpaque} cursor holds; anything else is an InvalidCursorError. */
export function decodeOpaque(cursor: string): unknown {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("not base64url");
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
}

/** The cursor of a LastEvaluatedKey; none after the last page. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return encodeOpaque(key);
}

/**
 * Decodes a cursor made by {@link encodeCursor} for a listing whose keys are `attributes`. A
 * cursor from another listing (other index, other partition) is refused rather than handed to
 * DynamoDB, which would answer with a ValidationException or silently skip items.
 */
export function decodeCursor(
  cursor: string | undefined,
  attributes: readonly string[],
  fixed: Readonly<Record<string, string | number>> = {},
): Key | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  return checkCursorKey(decodeOpaque(cursor), attributes, fixed);
}

/**
 * `parsed` as the start key of a listing whose keys are `attributes`, holding the `fixed`
 * values (its partition): exactly those attributes, each a string or a number.
 */
export function checkCursorKey(
  parsed: unknown,
  attributes: readonly string[],
  fixed: Readonly<Record<string, string | number>> = {},
): Key {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidCursorError();
  }
  const entries = Object.entries(parsed);
  const valid =
    entries.length === attributes.length &&
    entries.every(
      ([name, value]) =>
        attributes.includes(name) && (typeof value === "string" || typeof value === "number"),
    ) &&
    Object.entries(fixed).every(([name, value]) => (parsed as Key)[name] === value);
  if (!valid) throw new InvalidCursorError();
  return parsed as Key;
}

/**
 * One page of a listing of `design`'s table (or of the index the query names): the cursor
 * checked against that listing's key and its `fixed` partition, up to `limit` items read and
 * made records by `toRecord`, and the cursor of the next page.
 */
export async function listPage<T>(
  client: DynamoDBDocumentClient,
  request: { query: QueryCommandInput } | { scan: ScanCommandInput },
  design: TableDesign,
  window: {
    limit: number;
    cursor: string | undefined;
    fixed?: Readonly<Record<string, string | number>>;
  },
  toRecord: (item: Item) => T,
): Promise<Page<T>> {
  const index = "query" in request ? request.query.IndexName : undefined;
  const startKey = decodeCursor(window.cursor, keyAttributesOf(design, index), window.fixed);
  const page = await readPage(client, request, window.limit, startKey);
  return { items: page.items.map(toRecord), nextCursor: encodeCursor(page.lastKey) };
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError("limit", `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

/** Parses an ISO-8601 timestamp (or anything `Date` reads unambiguously) to epoch ms. */
export function parseTime(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(field, `not a timestamp: ${value}`);
  return ms;
}

/**
 * Reads up to `limit` items, issuing further requests while a FilterExpression leaves a page
 * short (DynamoDB applies Limit before the filter). The returned key resumes right after the last
 * item read.
 */
export async function readPage(
  client: DynamoDBDocumentClient,
  request: { query: QueryCommandInput } | { scan: ScanCommandInput },
  limit: number,
  startKey: Key | undefined,
): Promise<{ items: Item[]; lastKey: Key | undefined }> {
  const items: Item[] = [];
  let lastKey: Key | undefined = startKey;
  do {
    const page = await send(client, request, {
      Limit: limit - items.length,
      ExclusiveStartKey: lastKey,
    });
    items.push(...(page.Items ?? []));
    lastKey = page.LastEvaluatedKey as Key | undefined;
  } while (lastKey && items.length < limit);
  return { items, lastKey };
}

/** Every item of a query or scan, page by page. */
export async function* readAll(
  client: DynamoDBDocumentClient,
  request: { query: QueryCommandInput } | { scan: ScanCommandInput },
): AsyncGenerator<Item[]> {
  let lastKey: Key | undefined;
  do {
    const page = await send(client, request, { ExclusiveStartKey: lastKey });
    yield page.Items ?? [];
    lastKey = page.LastEvaluatedKey as Key | undefined;
  } while (lastKey);
}

function send(
  client: DynamoDBDocumentClient,
  request: { query: QueryCommandInput } | { scan: ScanCommandInput },
  extra: { Limit?: number; ExclusiveStartKey: Key | undefined },
) {
  return "query" in request
    ? client.send(new QueryCommand({ ...request.query, ...extra }))
    : client.send(new ScanCommand({ ...request.scan, ...extra }));
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** BatchWriteItem's limit on requests per call. */
export const BATCH_WRITE_LIMIT = 25;

export interface BatchDeleteOptions {
  /** BatchWriteItem calls in flight at once; default 4. */
  concurrency?: number;
  /** Calls per batch, the first included, while items come back unprocessed; default 8. */
  maxAttempts?: number;
  /** The first pause before unprocessed items are sent again, doubled each time; default 20 ms. */
  backoffMs?: number;
}

/**
 * Deletes the items with `keys` from `tableName` with BatchWriteItem, 25 a call and
 * `concurrency` calls at once: one round trip per 25 items instead of one per item. Items the
 * engine returns as unprocessed (throttling) are sent again after an exponential pause with
 * jitter, as the DynamoDB documentation asks for BatchWriteItem.
 *
 * @throws {UnprocessedItemsError} items were still unprocessed after `maxAttempts` calls.
 */
export async function batchDelete(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  options: BatchDeleteOptions = {},
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  const backoffMs = options.backoffMs ?? 20;
  const batches: Key[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_WRITE_LIMIT) {
    batches.push(keys.slice(i, i + BATCH_WRITE_LIMIT));
  }
  await mapLimit(batches, options.concurrency ?? 4, async (batch) => {
    let requests: unknown[] = batch.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 1; ; attempt++) {
      const { UnprocessedItems } = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }),
      );
      requests = UnprocessedItems?.[tableName] ?? [];
      if (requests.length === 0) return;
      if (attempt >= maxAttempts) {
        throw new UnprocessedItemsError(tableName, requests.length, attempt);
      }
      const pause = Math.random() * Math.min(backoffMs * 2 ** (attempt - 1), 2_000);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  });
}

/**
 * Builds an UpdateExpression with every attribute name aliased (so reserved words such as
 * `status` need no thought). `undefined` values in `set` are skipped: "not given, keep".
 */
export class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly setClauses: string[] = [];
  private readonly removeClauses: string[] = [];
  private counter = 0;

  name(attribute: string): string {
    const existing = Object.entries(this.names).find(([, a]) => a === attribute);
    if (existing) return existing[0];
    const alias = `#n${this.counter++}`;
    this.names[alias] = attribute;
    return alias;
  }

  value(value: unknown): string {
    const alias = `:v${this.counter++}`;
    this.values[alias] = value;
    return alias;
  }

  set(attributes: Record<string, unknown>): this {
    for (const [attribute, value] of Object.entries(attributes)) {
      if (value === undefined) continue;
      this.setClauses.push(`${this.name(attribute)} = ${this.value(value)}`);
    }
    return this;
  }

  /** Sets each attribute only when the item does not have it yet. */
  setIfMissing(attributes: Record<string, unknown>): this {
    for (const [attribute, value] of Object.entries(attributes)) {
      const n = this.name(attribute);
      this.setClauses.push(`${n} = if_not_exists(${n}, ${this.value(value)})`);
    }
    return this;
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.removeClauses.push(this.name(attribute));
    return this;
  }

  /** The expression parts for an UpdateCommand; `condition` may use {@link name} and {@link value}. */
  build(condition?: string) {
    const parts: string[] = [];
    if (this.setClauses.length > 0) parts.push(`SET ${this.setClauses.join(", ")}`);
    if (this.removeClauses.length > 0) parts.push(`REMOVE ${this.removeClauses.join(", ")}`);
    return {
      UpdateExpression: parts.join(" "),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
      ...(condition ? { ConditionExpression: condition } : {}),
    };
  }
}

/** Drops `undefined` members, so items and results never carry `key: undefined`. */
/**
 * The record an item holds: the attributes `fields` names, an absent one left out, except those
 * `nulls` names, which are `null` when absent (a null the store wrote as no attribute). One
 * reader for every record type; its fields are listed once, beside the record's store.
 */
export function recordOf<T extends object>(
  item: Item,
  fields: readonly (keyof T & string)[],
  nulls: readonly (keyof T & string)[] = [],
): T {
  const record: Record<string, unknown> = {};
  for (const field of fields) {
    const value = item[field];
    if (value !== undefined) record[field] = value;
  }
  for (const field of nulls) record[field] = item[field] ?? null;
  return record as T;
}

export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
