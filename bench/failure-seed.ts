/**
 * Loads a failures table for the store benchmarks (`bench/store.ts`, and the store part of
 * `bench/rotate.ts`): `records` failures over the last 30 days, the causes in turn.
 *
 * @module
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import { type Cause, hintFor } from "../lib/failures/causes.ts";
import {
  DEFAULT_FAILURE_TTL_SECONDS,
  type DynamoFailureStore,
} from "../lib/store/dynamo-failure-store.ts";
import { FAILURE_KIND } from "../lib/store/tables.ts";

export const DAY_MS = 24 * 60 * 60 * 1000;
export const SPAN_DAYS = 30;

/**
 * The first record goes through the store; every other one is its item with its own id, cause
 * and time, written 25 at a time, 8 calls at once. Loading is not what is measured.
 */
export async function seedFailures(
  client: DynamoDBDocumentClient,
  store: DynamoFailureStore,
  table: string,
  options: { records: number; now: number; causes: readonly Cause[] },
): Promise<void> {
  const { records, now, causes } = options;
  const template = await store.record({
    deviceId: "dev-0",
    operation: "DETECT",
    cause: causes[0] ?? "INTERNAL",
    message: "connection refused by 10.0.0.1:22",
    attempt: 1,
    keyGeneration: 1,
    runId: "run-0",
    occurredAt: new Date(now).toISOString(),
  });
  const item = (i: number) => {
    const occurredMs = now - Math.floor((i / records) * SPAN_DAYS * DAY_MS);
    const id = ulid(occurredMs);
    const occurredAt = new Date(occurredMs).toISOString();
    const cause = causes[i % causes.length] ?? "INTERNAL";
    return {
      ...template,
      id,
      deviceId: `dev-${i % 500}`,
      cause,
      hint: hintFor(cause, "DETECT"),
      runId: `run-${i}`,
      occurredAt,
      expiresAt: Math.floor(occurredMs / 1000) + DEFAULT_FAILURE_TTL_SECONDS,
      kind: FAILURE_KIND,
      sk: `${occurredAt}#${id}`,
    };
  };
  let next = 1;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < records) {
        const from = next;
        next = Math.min(records, next + 25);
        let requests: unknown[] = [];
        for (let i = from; i < next; i++) requests.push({ PutRequest: { Item: item(i) } });
        for (let tries = 0; requests.length > 0; tries++) {
          if (tries === 10) throw new Error("seeding: BatchWriteItem left items unprocessed");
          const answer = await client.send(
            new BatchWriteCommand({ RequestItems: { [table]: requests as never } }),
          );
          requests = answer.UnprocessedItems?.[table] ?? [];
        }
      }
    }),
  );
}
