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
import { InvalidArgumentError, InvalidCursorError, UnprocessedItemsError } from "./errors.ts";

export type Item = Record<string, unknown>;
export type Key = Record<string, string | number>;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Epoch milliseconds; injectable so tests can place records and leases in time. */
export type Clock = () => number;

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** Opaque to callers: base64url of the LastEvaluatedKey JSON. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
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
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
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
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
