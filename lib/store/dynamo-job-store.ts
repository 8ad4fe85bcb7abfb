import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { JobKind, JobRecord, JobRun, JobStore } from "../jobs/types.ts";
import { DynamoTable, type Item, parseTime, type TableOptions } from "./dynamo-util.ts";

export type DynamoJobStoreOptions = TableOptions;

/**
 * {@link JobStore} over one DynamoDB table keyed by job `id`. A job names at most 1,000 runs
 * (the API's limit per request), about 150 KB: one item.
 */
export class DynamoJobStore extends DynamoTable implements JobStore {
  async create(job: JobRecord): Promise<void> {
    const expiresAt =
      job.expiresAt ?? Math.floor(parseTime(job.createdAt, "createdAt") / 1000) + this.ttlSeconds;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...job,
          runs: job.runs.map(({ deviceId, runId }) => ({ deviceId, runId })),
          expiresAt,
        },
        ConditionExpression: "attribute_not_exists(#id)",
        ExpressionAttributeNames: { "#id": "id" },
      }),
    );
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id } }),
    );
    if (!Item || this.isExpired(Item)) return undefined;
    return {
      id: Item.id as string,
      kind: Item.kind as JobKind,
      createdAt: Item.createdAt as string,
      runs: (Item.runs as JobRun[]).map(toItem),
      expiresAt: Item.expiresAt as number,
    };
  }

  /**
   * Replaces the runs with their settled form. Readers racing to settle write the same outcomes
   * (an ended run does not change), so the last write loses nothing.
   */
  async settle(id: string, runs: readonly JobRun[]): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: "SET #runs = :runs",
        ConditionExpression: "attribute_exists(#id)",
        ExpressionAttributeNames: { "#runs": "runs", "#id": "id" },
        ExpressionAttributeValues: { ":runs": runs.map(toItem) },
      }),
    );
  }

  private isExpired(item: Item): boolean {
    return typeof item.expiresAt === "number" && item.expiresAt <= Math.floor(this.now() / 1000);
  }
}

function toItem(run: JobRun): JobRun {
  const { deviceId, runId, outcome } = run;
  return outcome === undefined
    ? { deviceId, runId }
    : {
        deviceId,
        runId,
        outcome: { status: outcome.status, error: outcome.error, cause: outcome.cause },
      };
}
