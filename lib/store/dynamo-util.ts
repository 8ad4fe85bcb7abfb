/**
 * Helpers shared by the DynamoDB adapters: cursors, paged reads, update expressions.
 * Internal to `lib/store`.
 */
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { InvalidArgumentError, InvalidCursorError } from "./errors.ts";

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
