import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import type { Page } from "../devices/types.ts";
import { type Cause, hintFor } from "../failures/causes.ts";
import type { FailureQuery, FailureRecord, FailureStore, NewFailure } from "../failures/types.ts";
import {
  batchDelete,
  compact,
  DEFAULT_TTL_SECONDS,
  DynamoTable,
  decodeCursor,
  encodeCursor,
  type Item,
  isConditionalCheckFailed,
  pageSize,
  parseTime,
  readAll,
  readPage,
  recordOf,
  type TableOptions,
} from "./dynamo-util.ts";
import { InvalidCursorError, NotFoundError } from "./errors.ts";
import { FAILURE_KIND, keyAttributesOf, TABLES } from "./tables.ts";

export type DynamoFailureStoreOptions = TableOptions;

export const DEFAULT_FAILURE_TTL_SECONDS = DEFAULT_TTL_SECONDS;

const design = TABLES.failures;
/** Sorts after every ULID character, so `<until>#~` bounds every id of that millisecond. */
const AFTER_ANY_ID = "~";
/** BatchWriteItem calls in flight during a bulk delete (each deletes up to 25 records). */
const DELETE_CONCURRENCY = 4;

type Filter = Omit<FailureQuery, "limit" | "cursor">;

/** A query on one index, chosen from the filter. */
interface Plan {
  index: "byDevice" | "byCause" | "byTime";
  partition: { attribute: string; value: string };
  request: QueryCommandInput;
  /** Sort-key bounds, for checking a cursor belongs to this range. */
  from?: string;
  to?: string;
}

/**
 * {@link FailureStore} over one DynamoDB table: `byDevice`, `byCause` and `byTime` indexes, all
 * sorted by `sk = "<occurredAt>#<id>"`, so every filter is a Query with the time range as key
 * condition, newest first. Never a Scan. Expired records (TTL `expiresAt`, deleted lazily by
 * DynamoDB) are filtered out of every read.
 */
export class DynamoFailureStore extends DynamoTable implements FailureStore {
  /** Stores the failure with a ULID id (of its `occurredAt`), its cause's hint and its expiry. */
  async record(failure: NewFailure): Promise<FailureRecord> {
    const occurredMs =
      failure.occurredAt === undefined ? this.now() : parseTime(failure.occurredAt, "occurredAt");
    const id = ulid(occurredMs);
    const record: FailureRecord = compact({
      id,
      deviceId: failure.deviceId,
      operation: failure.operation,
      cause: failure.cause,
      message: failure.message,
      hint: hintFor(failure.cause, failure.operation),
      attempt: failure.attempt,
      keyGeneration: failure.keyGeneration,
      runId: failure.runId,
      occurredAt: new Date(occurredMs).toISOString(),
      expiresAt: Math.floor(occurredMs / 1000) + this.ttlSeconds,
      retriedByRunId: failure.retriedByRunId,
    });
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...record, kind: FAILURE_KIND, sk: sortKey(record.occurredAt, id) },
        ConditionExpression: "attribute_not_exists(#id)",
        ExpressionAttributeNames: { "#id": "id" },
      }),
    );
    return record;
  }

  /** Undefined when there is no such record or it has expired. */
  async get(id: string): Promise<FailureRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id } }),
    );
    if (!Item || this.isExpired(Item)) return undefined;
    return toFailure(Item);
  }

  /**
   * Newest first. `deviceId` → `byDevice` (a `cause` filters within the device's records),
   * `cause` → `byCause`, neither → `byTime`; `since`/`until` are a key condition on all three.
   */
  async list(query: FailureQuery = {}): Promise<Page<FailureRecord>> {
    const limit = pageSize(query.limit);
    const plan = this.plan(query);
    if (!plan) return { items: [] };
    const startKey = decodeCursor(query.cursor, keyAttributesOf(design, plan.index), {
      [plan.partition.attribute]: plan.partition.value,
    });
    const sk = startKey?.sk;
    if (
      startKey &&
      (typeof sk !== "string" ||
        (plan.from !== undefined && sk < plan.from) ||
        (plan.to !== undefined && sk > plan.to))
    ) {
      throw new InvalidCursorError();
    }
    const page = await readPage(this.client, { query: plan.request }, limit, startKey);
    return { items: page.items.map(toFailure), nextCursor: encodeCursor(page.lastKey) };
  }

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: "ALL_OLD" }),
    );
    return Attributes !== undefined && !this.isExpired(Attributes);
  }

  /**
   * Pages through the records the same filter would list and deletes them with BatchWriteItem,
   * 25 a call (no transaction: a failure midway leaves the rest for the next call). Counts the
   * live records the query found, each deleted by this call: a record another caller deletes at
   * the same moment may be counted by both.
   */
  async deleteMany(filter: Filter = {}): Promise<number> {
    const request = this.idsOnly(filter);
    if (!request) return 0;
    let deleted = 0;
    for await (const items of readAll(this.client, { query: request })) {
      await this.deleteItems(items);
      deleted += items.length;
    }
    return deleted;
  }

  async deleteSome(filter: Filter, limit: number): Promise<{ deleted: number; more: boolean }> {
    const request = this.idsOnly(filter);
    if (!request) return { deleted: 0, more: false };
    // One past the limit tells whether anything is left without a second round trip.
    const page = await readPage(this.client, { query: request }, limit + 1, undefined);
    const batch = page.items.slice(0, limit);
    await this.deleteItems(batch);
    return { deleted: batch.length, more: page.items.length > limit };
  }

  /** The filter's query reading ids only; undefined when the range is empty. */
  private idsOnly(filter: Filter): QueryCommandInput | undefined {
    const plan = this.plan(filter);
    if (!plan) return undefined;
    return {
      ...plan.request,
      ProjectionExpression: "#id",
      ExpressionAttributeNames: { ...plan.request.ExpressionAttributeNames, "#id": "id" },
    };
  }

  private deleteItems(items: readonly Item[]): Promise<void> {
    const keys = items.map((item) => ({ id: item.id as string }));
    return batchDelete(this.client, this.tableName, keys, { concurrency: DELETE_CONCURRENCY });
  }

  /**
   * Number of live records per cause over the time range: one query, on `byDevice` for a device
   * and on `byTime` otherwise, reading the cause attribute only.
   */
  async countByCause(
    query: Pick<FailureQuery, "since" | "until" | "deviceId"> = {},
  ): Promise<Partial<Record<Cause, number>>> {
    const plan = this.plan({ since: query.since, until: query.until, deviceId: query.deviceId });
    const counts: Partial<Record<Cause, number>> = {};
    if (!plan) return counts;
    const request: QueryCommandInput = {
      ...plan.request,
      ProjectionExpression: "#cause",
      ExpressionAttributeNames: { ...plan.request.ExpressionAttributeNames, "#cause": "cause" },
    };
    for await (const items of readAll(this.client, { query: request })) {
      for (const item of items) {
        const cause = item.cause as Cause;
        counts[cause] = (counts[cause] ?? 0) + 1;
      }
    }
    return counts;
  }

  /** @throws {NotFoundError} no such record. */
  async markRetried(id: string, runId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: "SET #retried = :runId",
          ConditionExpression: "attribute_exists(#id)",
          ExpressionAttributeNames: { "#id": "id", "#retried": "retriedByRunId" },
          ExpressionAttributeValues: { ":runId": runId },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError("failure", id, { cause: error });
      throw error;
    }
  }

  private isExpired(item: Item): boolean {
    return typeof item.expiresAt === "number" && item.expiresAt <= this.nowSeconds();
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** The index query for a filter; undefined when the range is empty (since after until). */
  private plan(filter: Filter): Plan | undefined {
    const names: Record<string, string> = { "#pk": "", "#sk": "sk", "#expiresAt": "expiresAt" };
    const values: Record<string, unknown> = { ":now": this.nowSeconds() };
    const filters = ["#expiresAt > :now"];
    let index: Plan["index"];
    let partition: Plan["partition"];
    if (filter.deviceId !== undefined) {
      index = "byDevice";
      partition = { attribute: "deviceId", value: filter.deviceId };
      if (filter.cause !== undefined) {
        names["#cause"] = "cause";
        values[":cause"] = filter.cause;
        filters.push("#cause = :cause");
      }
    } else if (filter.cause !== undefined) {
      index = "byCause";
      partition = { attribute: "cause", value: filter.cause };
    } else {
      index = "byTime";
      partition = { attribute: "kind", value: FAILURE_KIND };
    }
    if (filter.operation !== undefined) {
      names["#operation"] = "operation";
      values[":operation"] = filter.operation;
      filters.push("#operation = :operation");
    }
    names["#pk"] = partition.attribute;
    values[":pk"] = partition.value;

    const since =
      filter.since === undefined
        ? undefined
        : new Date(parseTime(filter.since, "since")).toISOString();
    const until =
      filter.until === undefined
        ? undefined
        : `${new Date(parseTime(filter.until, "until")).toISOString()}#${AFTER_ANY_ID}`;
    if (since !== undefined && until !== undefined && since > until) return undefined;
    let keyCondition = "#pk = :pk";
    if (since !== undefined && until !== undefined) {
      keyCondition += " AND #sk BETWEEN :from AND :to";
    } else if (since !== undefined) {
      keyCondition += " AND #sk >= :from";
    } else if (until !== undefined) {
      keyCondition += " AND #sk <= :to";
    } else {
      delete names["#sk"];
    }
    if (since !== undefined) values[":from"] = since;
    if (until !== undefined) values[":to"] = until;

    return {
      index,
      partition,
      from: since,
      to: until,
      request: {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: keyCondition,
        FilterExpression: filters.join(" AND "),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
    };
  }
}

function sortKey(occurredAt: string, id: string): string {
  return `${occurredAt}#${id}`;
}

const FAILURE_FIELDS = [
  "id",
  "deviceId",
  "operation",
  "cause",
  "message",
  "hint",
  "attempt",
  "occurredAt",
  "expiresAt",
  "retriedByRunId",
] as const;

function toFailure(item: Item): FailureRecord {
  return recordOf<FailureRecord>(item, FAILURE_FIELDS, ["keyGeneration", "runId"]);
}
