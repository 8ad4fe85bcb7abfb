/**
 * `keyheal failures list|show|delete|retry`: the failure records, with their cause and the
 * handling step an operator should take.
 *
 * @module
 */
import { CAUSE_NAMES } from "../failures/causes.ts";
import type { FailureFilter } from "./api-client.ts";
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
import { EXIT, UsageError } from "./errors.ts";
import { formatTime, renderFields, renderJson, renderTable } from "./output.ts";
import { finishStarted, WAIT } from "./runs.ts";
import type { FailureView } from "./shapes.ts";
import { Progress } from "./wait.ts";

const FILTER_OPTIONS = {
  device: { type: "string", value: "D", description: "Only failures of device D" },
  cause: { type: "string", value: "C", description: "Only failures with cause C" },
  since: {
    type: "string",
    value: "WHEN",
    description: "Only failures since WHEN: 90m, 24h, 7d, or an ISO date such as 2025-01-31",
  },
} as const;

const CAUSES_HELP = `Causes: ${CAUSE_NAMES.join(", ")}.`;

/** The `--device`, `--cause` and `--since` filters, checked. */
function filterOf(context: CommandContext, command: string): FailureFilter {
  const device = stringOption(context.args, "device");
  const since = stringOption(context.args, "since");
  return {
    deviceId: device === undefined ? undefined : checkDeviceId(device, command, "--device"),
    cause: choiceOption(context, "cause", CAUSE_NAMES, command),
    since: since === undefined ? undefined : parseSince(since, context.io.now()),
  };
}

function renderFailures(failures: readonly FailureView[]): string {
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

function describeFilter(filter: FailureFilter): string {
  const parts = [
    filter.deviceId && `device ${filter.deviceId}`,
    filter.cause && `cause ${filter.cause}`,
    filter.since && `since ${formatTime(filter.since)}`,
  ].filter(Boolean);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

export const failuresCommands: CommandSpec[] = [
  {
    words: ["failures", "list"],
    usage: "failures list [--device D] [--cause C] [--since 24h]",
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
        context.print(renderFailures(page.items));
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
    words: ["failures", "delete"],
    usage: "failures delete ID | --all [--device D] [--cause C] [--since 24h]",
    summary: "Delete one failure record, or all of them (optionally only those matching filters).",
    details: `Prints the number deleted; --json prints { deleted }. ${CAUSES_HELP}`,
    options: {
      all: { type: "boolean", description: "Delete every record that matches the filters" },
      ...FILTER_OPTIONS,
    },
    positionals: { name: "ID", min: 0, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const id = context.args.positionals[0];
      const all = flag(context.args, "all");
      const filtered = ["device", "cause", "since"].filter(
        (name) => stringOption(context.args, name) !== undefined,
      );
      if (id !== undefined && all) {
        throw new UsageError("give a failure ID or --all, not both", "failures delete");
      }
      if (id === undefined && !all) {
        throw new UsageError("give the failure ID to delete, or --all", "failures delete");
      }
      if (id !== undefined && filtered.length > 0) {
        throw new UsageError(
          `--${filtered[0]} filters --all; it does not go with one failure ID`,
          "failures delete",
        );
      }
      const filter = all ? filterOf(context, "failures delete") : {};
      const client = await context.client();
      let deleted: number;
      if (id !== undefined) {
        ({ deleted } = await client.deleteFailure(id));
      } else {
        const progress = new Progress(context.io.stderr);
        progress.update(`deleting failures${describeFilter(filter)}…`);
        try {
          ({ deleted } = await client.deleteFailures(filter));
        } finally {
          progress.stop();
        }
      }
      if (context.json) context.print(renderJson({ deleted }));
      else if (id !== undefined) context.print(`Deleted failure ${id}.\n`);
      else
        context.print(
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
