import { gunzipSync, gzipSync } from "node:zlib";
import { GetCommand, PutCommand, type PutCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Page } from "../devices/types.ts";
import {
  compact,
  DEFAULT_TTL_SECONDS,
  DynamoTable,
  type Item,
  isConditionalCheckFailed,
  listPage,
  pageSize,
  parseTime,
  recordOf,
  type TableOptions,
} from "./dynamo-util.ts";
import type { RunRecord, RunStatus, RunStep, RunStore } from "./runs.ts";
import { TABLES } from "./tables.ts";

export type DynamoRunStoreOptions = TableOptions;

export const DEFAULT_RUN_TTL_SECONDS = DEFAULT_TTL_SECONDS;

const design = TABLES.runs;
/** DynamoDB's limit is 400 KB; JSON size is a close, slightly generous estimate of item size. */
const MAX_ITEM_BYTES = 350_000;
const MAX_PAYLOAD_BYTES = 64_000;
const KEEP_FIRST_STEPS = 10;

/**
 * {@link RunStore} over one DynamoDB table keyed by run `id`, with a sparse `byDevice` index
 * (`deviceId`, `startedAt`). Each write replaces the whole run item with a conditional put.
 */
export class DynamoRunStore extends DynamoTable implements RunStore {
  async create(run: RunRecord): Promise<boolean> {
    return this.write(run, "attribute_not_exists(#id)", { "#id": "id" }, {});
  }

  async put(run: RunRecord): Promise<boolean> {
    if (run.status !== "RUNNING") return this.write(run);
    return this.write(
      run,
      "attribute_not_exists(#id) OR #status = :running",
      { "#id": "id", "#status": "status" },
      { ":running": "RUNNING" },
    );
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id } }),
    );
    if (!Item || this.isExpired(Item)) return undefined;
    return toRun(Item);
  }

  async list(
    query: { deviceId?: string; limit?: number; cursor?: string } = {},
  ): Promise<Page<RunRecord>> {
    const limit = pageSize(query.limit);
    const notExpired = "#expiresAt > :now";
    const now = Math.floor(this.now() / 1000);
    if (query.deviceId !== undefined) {
      const request = {
        TableName: this.tableName,
        IndexName: "byDevice",
        KeyConditionExpression: "#deviceId = :deviceId",
        FilterExpression: notExpired,
        ExpressionAttributeNames: { "#deviceId": "deviceId", "#expiresAt": "expiresAt" },
        ExpressionAttributeValues: { ":deviceId": query.deviceId, ":now": now },
        ScanIndexForward: false,
      };
      const window = { limit, cursor: query.cursor, fixed: { deviceId: query.deviceId } };
      return listPage(this.client, { query: request }, design, window, toRun);
    }
    const scan = {
      TableName: this.tableName,
      FilterExpression: notExpired,
      ExpressionAttributeNames: { "#expiresAt": "expiresAt" },
      ExpressionAttributeValues: { ":now": now },
    };
    return listPage(this.client, { scan }, design, { limit, cursor: query.cursor }, toRun);
  }

  private async write(
    run: RunRecord,
    condition?: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<boolean> {
    const expiresAt =
      run.expiresAt ?? Math.floor(parseTime(run.startedAt, "startedAt") / 1000) + this.ttlSeconds;
    const input: PutCommandInput = {
      TableName: this.tableName,
      Item: toItem({ ...run, expiresAt }),
      ...(condition ? { ConditionExpression: condition, ExpressionAttributeNames: names } : {}),
      ...(values && Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
    try {
      await this.client.send(new PutCommand(input));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private isExpired(item: Item): boolean {
    return typeof item.expiresAt === "number" && item.expiresAt <= Math.floor(this.now() / 1000);
  }
}

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

/** Stands in for an input or output too large to keep. */
function bounded(value: unknown): unknown {
  if (value === undefined) return undefined;
  // JSON round trip: drops undefined members and functions, which DynamoDB cannot store.
  const json = JSON.parse(JSON.stringify(value)) as unknown;
  const bytes = byteLength(json);
  return bytes > MAX_PAYLOAD_BYTES ? { truncated: true, bytes } : json;
}

/**
 * The item for a run: no NULL `deviceId` (a GSI key cannot be NULL; the index is sparse), and
 * steps from the middle dropped (counted in `stepsOmitted`) until it fits in one item.
 *
 * The steps are kept as one JSON attribute (`stepsJson`, or `stepsGzip` gzipped when large), as DynamoDB's guide
 * advises for large attributes, not as a list of maps: a rotation's run is rewritten every second
 * and read at every poll of `keys rotate --wait`, with a step per state of every device, and as a
 * list of maps every attribute of every step was marshalled, validated and unmarshalled at each
 * call, in the client and in the embedded engine (the largest share of the runtime's CPU during a
 * rotation, bench/RESULTS.md). The size bound stays on the JSON, so what a reader gets is as before.
 */
function toItem(run: RunRecord): Item {
  const { deviceId, steps, ...rest } = run;
  const item: Item = compact({
    ...rest,
    deviceId: deviceId ?? undefined,
    input: bounded(run.input),
    output: bounded(run.output),
  });
  // JSON drops undefined members itself; the steps are serialised once unless they must shrink.
  let stepsJson = JSON.stringify(steps);
  let excess = byteLength(item) + Buffer.byteLength(stepsJson) - MAX_ITEM_BYTES;
  if (excess > 0) {
    const kept = [...steps];
    let omitted = 0;
    while (excess > 0 && kept.length > KEEP_FIRST_STEPS + 1) {
      // The oldest steps after the first few go first: the latest show where the run is.
      const [dropped] = kept.splice(KEEP_FIRST_STEPS, 1);
      excess -= byteLength(dropped) + 1;
      omitted++;
    }
    item.stepsOmitted = (run.stepsOmitted ?? 0) + omitted;
    stepsJson = JSON.stringify(kept);
  }
  // Most runs' steps are a few kB: kept as JSON text. Compressing them cost a zlib stream per
  // write and read, and the native memory of those streams was the runtime's largest growth under
  // a stream of reconnects (RELIABILITY.md); a rotation's steps still go gzipped.
  if (Buffer.byteLength(stepsJson) <= PLAIN_STEPS_BYTES) item.stepsJson = stepsJson;
  else item.stepsGzip = gzipSync(stepsJson);
  return item;
}

/** Steps up to this size are stored as JSON text (`stepsJson`), larger ones gzipped. */
const PLAIN_STEPS_BYTES = 32 * 1024;

/** The steps of an item: JSON text, gzipped JSON, or a list of maps in items written before. */
function stepsOf(item: Item): Item[] {
  if (typeof item.stepsJson === "string") return JSON.parse(item.stepsJson) as Item[];
  if (item.stepsGzip instanceof Uint8Array) {
    return JSON.parse(gunzipSync(item.stepsGzip).toString("utf8")) as Item[];
  }
  return (item.steps as Item[] | undefined) ?? [];
}

function toRun(item: Item): RunRecord {
  return compact({
    id: item.id as string,
    workflow: item.workflow as string,
    deviceId: (item.deviceId as string | undefined) ?? null,
    status: item.status as RunStatus,
    startedAt: item.startedAt as string,
    endedAt: (item.endedAt as string | null | undefined) ?? null,
    input: item.input,
    output: item.output,
    error: item.error as string | undefined,
    cause: item.cause as string | undefined,
    steps: stepsOf(item).map(toStep),
    stepsOmitted: item.stepsOmitted as number | undefined,
    progress: item.progress as RunRecord["progress"],
    expiresAt: item.expiresAt as number,
  });
}

const STEP_FIELDS = [
  "name",
  "type",
  "status",
  "startedAt",
  "endedAt",
  "error",
  "cause",
  "caughtBy",
  "retries",
] as const;

function toStep(item: Item): RunStep {
  return recordOf<RunStep>(item, STEP_FIELDS);
}
