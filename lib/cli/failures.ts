/**
 * `keyheal failures list|show|stats|delete|retry`: the failure records, with their cause and the
 * handling step an operator should take.
 *
 * @module
 */

import type { FailureStatsView, FailureView } from "../contract/api.ts";
import { CAUSE_NAMES, OPERATIONS } from "../contract/vocabulary.ts";
import type { ApiClient, FailureFilter } from "./api-client.ts";
import { flag, stringOption } from "./args.ts";
import {
  type CommandContext,
  type CommandSpec,
  checkDeviceId,
  choiceOption,
  LIST_OPTIONS,
  NO_POSITIONALS,
  positiveIntOption,
} from "./command.ts";
import { parseSince } from "./duration.ts";
import { ApiError, CliError, EXIT, UnexpectedResponseError, UsageError } from "./errors.ts";
import { formatTime, renderFields, renderJson, renderTable } from "./output.ts";
import { confirm } from "./prompt.ts";
import { finishStarted, WAIT } from "./runs.ts";
import { countsLine, Progress } from "./wait.ts";

/** Records one `DELETE /failures` round removes: small enough for a live count, large enough to be quick. */
const DELETE_PAGE = 200;
/** 20 million records: far beyond any failures table (records expire after 90 days). */
const MAX_DELETE_ROUNDS = 100_000;

const FILTER_OPTIONS = {
  device: { type: "string", value: "D", description: "Only failures of device D" },
  cause: { type: "string", value: "C", description: "Only failures with cause C" },
  since: {
    type: "string",
    value: "WHEN",
    description: "Only failures since WHEN: 90m, 24h, 7d, or an ISO date such as 2025-01-31",
  },
  until: {
    type: "string",
    value: "WHEN",
    description: "Only failures until WHEN (same forms as --since)",
  },
  operation: {
    type: "string",
    value: "OP",
    description: `Only failures of operation OP: ${OPERATIONS.join(", ")}`,
  },
} as const;

const CAUSES_HELP = `Causes: ${CAUSE_NAMES.join(", ")}.`;

/** The `--device`, `--cause`, `--operation`, `--since` and `--until` filters, checked. */
function filterOf(context: CommandContext, command: string): FailureFilter {
  const device = stringOption(context.args, "device");
  const since = stringOption(context.args, "since");
  const until = stringOption(context.args, "until");
  const filter: FailureFilter = {
    deviceId: device === undefined ? undefined : checkDeviceId(device, command, "--device"),
    cause: choiceOption(context, "cause", CAUSE_NAMES, command),
    operation: choiceOption(context, "operation", OPERATIONS, command),
    since: since === undefined ? undefined : parseSince(since, context.io.now()),
    until: until === undefined ? undefined : parseSince(until, context.io.now(), "--until"),
  };
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    throw new UsageError("--since must not be after --until", command);
  }
  return filter;
}

function renderFailures(failures: readonly FailureView[], width?: number): string {
  return renderTable(
    ["ID", "DEVICE", "OPERATION", "CAUSE", "ATTEMPT", "GEN", "OCCURRED", "HANDLING STEP"],
    failures.map((failure) => [
      failure.id,
      failure.deviceId,
      failure.operation,
      failure.cause,
      failure.attempt,
      failure.keyGeneration,
      formatTime(failure.occurredAt),
      failure.hint,
    ]),
    width,
  );
}

function renderFailure(failure: FailureView): string {
  const retried = (failure as unknown as { retriedByRunId?: unknown }).retriedByRunId;
  return renderFields([
    ["Failure", failure.id],
    ["Device", failure.deviceId],
    ["Operation", failure.operation],
    ["Cause", failure.cause],
    ["Message", failure.message],
    ["Handling step", failure.hint],
    ["Attempt", failure.attempt],
    ["Key generation", failure.keyGeneration],
    ["Run", failure.runId],
    ["Occurred", formatTime(failure.occurredAt)],
    ...(typeof retried === "string" ? [["Retried by run", retried] as const] : []),
  ]);
}

function renderStats(stats: FailureStatsView, filter: FailureFilter, width?: number): string {
  if (stats.total === 0) return `No failures${describeFilter(filter)}.\n`;
  const heading = `${stats.total} failure${stats.total === 1 ? "" : "s"}${describeFilter(filter)}.\n`;
  return `${heading}${renderTable(
    ["CAUSE", "COUNT", "HANDLING STEP"],
    stats.items.map((item) => [item.cause, item.count, item.hint]),
    width,
  )}`;
}

/**
 * How many records match `filter`, from `GET /failures/stats` (which counts by cause, so a
 * cause filter picks its row); undefined from an API without stats.
 */
async function matchingCount(
  client: ApiClient,
  filter: FailureFilter,
): Promise<number | undefined> {
  let stats: FailureStatsView;
  try {
    stats = await client.failureStats({
      deviceId: filter.deviceId,
      since: filter.since,
      until: filter.until,
    });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
      return undefined;
    }
    throw error;
  }
  // Stats count by cause only: with an operation filter the total is not known up front.
  if (filter.operation !== undefined) return undefined;
  if (filter.cause === undefined) return stats.total;
  return stats.items.find((item) => item.cause === filter.cause)?.count ?? 0;
}

/** Deletes every match, a page per round, counting on the progress line; the number deleted. */
async function deleteInPages(
  client: ApiClient,
  filter: FailureFilter,
  total: number | undefined,
  progress: Progress,
): Promise<number> {
  let deleted = 0;
  const label = `deleting failures${describeFilter(filter)}`;
  progress.update(`${label}…`);
  for (let round = 0; round < MAX_DELETE_ROUNDS; round += 1) {
    const page = await client.deleteFailures(filter, DELETE_PAGE);
    deleted += page.deleted;
    // Failures recorded meanwhile may push the count past the total seen at the start.
    const of = Math.max(total ?? 0, deleted);
    progress.update(
      total === undefined
        ? `${label}: deleted ${deleted}`
        : `${label}: ${countsLine("deleted", { ok: deleted, failed: 0, ended: deleted, total: of })}`,
    );
    if (!page.more) return deleted;
    if (page.deleted === 0) {
      throw new UnexpectedResponseError(
        "DELETE",
        "/failures",
        "more records remain but none were deleted",
      );
    }
  }
  throw new CliError(
    `stopped after ${MAX_DELETE_ROUNDS} rounds of ${DELETE_PAGE} with records still left; run the command again`,
    EXIT.SERVER,
  );
}

function describeFilter(filter: FailureFilter): string {
  const parts = [
    filter.deviceId && `device ${filter.deviceId}`,
    filter.cause && `cause ${filter.cause}`,
    filter.operation && `operation ${filter.operation}`,
    filter.since && `since ${formatTime(filter.since)}`,
    filter.until && `until ${formatTime(filter.until)}`,
  ].filter(Boolean);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

export const failuresCommands: CommandSpec[] = [
  {
    words: ["failures", "list"],
    usage: "failures list [--device D] [--cause C] [--operation OP] [--since 24h] [--until WHEN]",
    summary: "List failure records, newest first, with their cause and handling step.",
    details: CAUSES_HELP,
    options: { ...FILTER_OPTIONS, ...LIST_OPTIONS },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const filter = filterOf(context, "failures list");
      const limit = positiveIntOption(context, "limit", "failures list");
      const client = await context.client();
      const page = await client.listFailures(filter, {
        limit,
        cursor: stringOption(context.args, "cursor"),
      });
      if (context.json) context.print(renderJson(page));
      else if (page.items.length === 0) context.print(`No failures${describeFilter(filter)}.\n`);
      else {
        context.print(renderFailures(page.items, context.width));
        if (page.nextCursor) context.print(`More: --cursor ${page.nextCursor}\n`);
      }
      return EXIT.OK;
    },
  },
  {
    words: ["failures", "show"],
    usage: "failures show ID",
    summary: "Show one failure record: message, cause, handling step and its run.",
    options: {},
    positionals: { name: "ID", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const client = await context.client();
      const failure = await client.getFailure(context.args.positionals[0] as string);
      context.print(context.json ? renderJson(failure) : renderFailure(failure));
      return EXIT.OK;
    },
  },
  {
    words: ["failures", "stats"],
    usage: "failures stats [--since 24h] [--until WHEN] [--device D]",
    summary:
      "Count failure records by cause, most frequent first, with each cause's handling step.",
    details:
      "Without --since, every record kept (records expire after 90 days). --json prints the API's { since, until, total, items }.",
    options: {
      device: FILTER_OPTIONS.device,
      since: FILTER_OPTIONS.since,
      until: FILTER_OPTIONS.until,
    },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const filter = filterOf(context, "failures stats");
      const client = await context.client();
      const stats = await client.failureStats({
        deviceId: filter.deviceId,
        since: filter.since,
        until: filter.until,
      });
      context.print(context.json ? renderJson(stats) : renderStats(stats, filter, context.width));
      return EXIT.OK;
    },
  },
  {
    words: ["failures", "delete"],
    usage:
      "failures delete ID | --all [--device D] [--cause C] [--operation OP] [--since 24h] [--until WHEN] [--yes]",
    summary: "Delete one failure record, or all of them (optionally only those matching filters).",
    details: [
      "--all asks for confirmation on a terminal; --yes confirms in advance (required when stdin",
      `is not a terminal). Prints the number deleted; --json prints { deleted }. ${CAUSES_HELP}`,
    ].join("\n"),
    options: {
      all: { type: "boolean", description: "Delete every record that matches the filters" },
      yes: { type: "boolean", description: "Do not ask before deleting with --all" },
      ...FILTER_OPTIONS,
    },
    positionals: { name: "ID", min: 0, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const command = "failures delete";
      const id = context.args.positionals[0];
      const all = flag(context.args, "all");
      const yes = flag(context.args, "yes");
      const filtered = ["device", "cause", "operation", "since", "until"].filter(
        (name) => stringOption(context.args, name) !== undefined,
      );
      if (id !== undefined && all) {
        throw new UsageError("give a failure ID or --all, not both", command);
      }
      if (id === undefined && !all) {
        throw new UsageError("give the failure ID to delete, or --all", command);
      }
      if (id !== undefined && filtered.length > 0) {
        throw new UsageError(
          `--${filtered[0]} filters --all; it does not go with one failure ID`,
          command,
        );
      }
      if (id !== undefined) {
        const client = await context.client();
        const { deleted } = await client.deleteFailure(id);
        context.print(context.json ? renderJson({ deleted }) : `Deleted failure ${id}.\n`);
        return EXIT.OK;
      }
      const filter = filterOf(context, command);
      if (!yes && context.io.stdin.isTTY !== true) {
        throw new UsageError(
          `--all deletes every matching failure record${describeFilter(filter)}, and stdin is not a terminal to confirm on: add --yes`,
          command,
        );
      }
      const client = await context.client();
      const total = await matchingCount(client, filter);
      const print = (deleted: number, text: string) =>
        context.print(context.json ? renderJson({ deleted }) : text);
      if (total === 0) {
        print(0, `No failures${describeFilter(filter)} to delete.\n`);
        return EXIT.OK;
      }
      if (!yes) {
        const count = total === undefined ? "every" : String(total);
        const records = total === 1 ? "record" : "records";
        const confirmed = await confirm(
          context.io,
          `Delete ${count} failure ${records}${describeFilter(filter)}? [y/N] `,
        );
        if (!confirmed) {
          print(0, "Nothing deleted.\n");
          return EXIT.OK;
        }
      }
      const progress = new Progress(context.io.stderr);
      let deleted: number;
      try {
        deleted = await deleteInPages(client, filter, total, progress);
      } finally {
        progress.stop();
      }
      print(
        deleted,
        `Deleted ${deleted} failure${deleted === 1 ? "" : "s"}${describeFilter(filter)}.\n`,
      );
      return EXIT.OK;
    },
  },
  {
    words: ["failures", "retry"],
    usage: "failures retry ID [--wait]",
    summary: "Start a new reconnect run for the failure's device, linked to the failure.",
    options: { ...WAIT },
    positionals: { name: "ID", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const id = context.args.positionals[0] as string;
      const client = await context.client();
      const started = await client.retryFailure(id);
      return finishStarted(context, [{ runId: started.runId }], started, `Retry of ${id} started`);
    },
  },
];
