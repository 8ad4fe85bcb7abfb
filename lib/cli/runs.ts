/**
 * `keyheal runs show RUN_ID`, and what every command that starts runs prints: the run ids, or
 * with `--wait` the runs as they ended.
 *
 * @module
 */

import type { RunStepView, RunView } from "../contract/api.ts";
import { flag } from "./args.ts";
import { type CommandContext, type CommandSpec, WAIT_OPTION } from "./command.ts";
import { EXIT, RunFailedError } from "./errors.ts";
import { elapsed, formatTime, renderFields, renderJson, renderTable } from "./output.ts";
import { Progress, type RunToWait, waitForJob, waitForRuns } from "./wait.ts";

/** The option commands that start runs declare. */
export const WAIT = { wait: WAIT_OPTION } as const;

/**
 * What a step or run failed with. A keyheal task error carries a JSON cause (`{ cause, message }`,
 * the failure cause of docs/architecture.md, Domain): that is what an operator acts on, so it comes first.
 */
export function failureText(source: { error?: unknown; cause?: unknown }): string | undefined {
  const error = typeof source.error === "string" ? source.error : undefined;
  const cause = typeof source.cause === "string" ? source.cause : undefined;
  const keyheal = keyhealCause(cause);
  if (keyheal) return keyheal;
  if (error && cause) return `${error}: ${cause}`;
  return error ?? cause;
}

function keyhealCause(cause: string | undefined): string | undefined {
  if (!cause?.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(cause) as { cause?: unknown; message?: unknown };
    if (typeof parsed.cause !== "string") return undefined;
    return typeof parsed.message === "string" ? `${parsed.cause}: ${parsed.message}` : parsed.cause;
  } catch {
    return undefined;
  }
}

/** Why a run failed: the last failure cause a step reported, else the failing step's or run's error. */
function runError(run: RunView): string | undefined {
  if (run.status !== "FAILED") return undefined;
  const steps = [...run.steps].reverse();
  for (const step of steps) {
    const keyheal = keyhealCause(step.cause);
    if (keyheal) return keyheal;
  }
  const failed = steps.find((each) => each.status === "FAILED");
  return (
    (failed && failureText(failed)) ?? failureText(run as { error?: unknown; cause?: unknown })
  );
}

function stepNote(step: RunStepView): string {
  const notes: string[] = [];
  if (step.retries) notes.push(`retried ${step.retries}×`);
  if (step.caughtBy) notes.push(`caught → ${step.caughtBy}`);
  if (step.status !== "SUCCEEDED") {
    const keyheal = keyhealCause(step.cause);
    const error = keyheal && step.error ? `${step.error}: ${keyheal}` : failureText(step);
    if (error) notes.push(error);
  }
  return notes.join("; ");
}

export function renderRunsTable(runs: readonly RunView[], width?: number): string {
  return renderTable(
    ["RUN", "WORKFLOW", "DEVICE", "STATUS", "DURATION", "LAST STEP", "ERROR"],
    runs.map((run) => [
      run.id,
      run.workflow,
      run.deviceId,
      run.status,
      elapsed(run.startedAt, run.endedAt),
      run.steps.at(-1)?.name,
      runError(run),
    ]),
    width,
  );
}

export function renderRun(run: RunView): string {
  const fields: [string, unknown][] = [
    ["Run", run.id],
    ["Workflow", run.workflow],
    ["Device", run.deviceId],
    ["Status", run.status],
    ["Started", formatTime(run.startedAt)],
    ["Ended", formatTime(run.endedAt)],
    ["Duration", elapsed(run.startedAt, run.endedAt)],
  ];
  const error = runError(run);
  if (error) fields.push(["Error", error]);
  const omitted = (run as unknown as { stepsOmitted?: unknown }).stepsOmitted;
  const steps =
    run.steps.length === 0
      ? "No steps recorded yet.\n"
      : renderTable(
          ["STEP", "TYPE", "STATUS", "STARTED", "DURATION", "NOTE"],
          run.steps.map((step) => [
            step.name,
            step.type,
            step.status,
            formatTime(step.startedAt),
            elapsed(step.startedAt, step.endedAt),
            stepNote(step),
          ]),
        );
  const gap = typeof omitted === "number" && omitted > 0 ? `(${omitted} steps omitted)\n` : "";
  return `${renderFields(fields)}\n${steps}${gap}`;
}

/** The job that tracks the started runs, when the API made one, and its progress verb. */
export interface StartedJob {
  id: string;
  /** What a succeeded run did, for the progress line: `resolved`. */
  verb: string;
}

/**
 * Ends a command that started runs. Without `--wait`: prints the API's answer (`--json`) or the
 * run ids (and the job's). With it: waits (on the job when there is one, else on each run),
 * prints the ended runs (`{ items, nextCursor }` with `--json`), and fails with exit 1 when any
 * run FAILED.
 *
 * @param answer what the API answered (`{ runId }` or `{ jobId, runs }`), printed as is with `--json`
 * @param what one line for people: `Rotation started`
 */
export async function finishStarted(
  context: CommandContext,
  runs: readonly RunToWait[],
  answer: unknown,
  what: string,
  job?: StartedJob,
): Promise<number> {
  if (!flag(context.args, "wait")) {
    if (context.json) {
      context.print(renderJson(answer));
      return EXIT.OK;
    }
    context.print(`${what}.\n`);
    if (job !== undefined) context.print(`Job: ${job.id}\n`);
    if (runs.length === 1) {
      context.print(`Run: ${runs[0]?.runId}\n`);
    } else {
      context.print(
        renderTable(
          ["DEVICE", "RUN"],
          runs.map((each) => [each.deviceId, each.runId]),
        ),
      );
    }
    const follow =
      job !== undefined
        ? `keyheal jobs show ${job.id} --wait`
        : `keyheal runs show ${runs.length === 1 ? runs[0]?.runId : "RUN_ID"} (or add --wait)`;
    context.print(`Follow with: ${follow}\n`);
    return EXIT.OK;
  }
  const client = await context.client();
  const progress = new Progress(context.io.stderr);
  if (job !== undefined) {
    await waitForJob(client, job.id, job.verb, { progress, now: context.io.now });
  }
  // After a job, every run has ended: one silent round reads them for the table.
  const ended = await waitForRuns(client, runs, {
    progress: job === undefined ? progress : new Progress(context.io.stderr, false),
    now: context.io.now,
  });
  if (context.json) {
    const jobId = job === undefined ? {} : { jobId: job.id };
    context.print(renderJson({ ...jobId, items: ended, nextCursor: null }));
  } else {
    if (job !== undefined) context.print(`Job: ${job.id}\n`);
    context.print(renderRunsTable(ended, context.width));
  }
  const failed = ended.filter((run) => run.status === "FAILED");
  if (failed.length > 0) {
    throw new RunFailedError(
      failed.map((run) => run.id),
      failed.length === 1 ? (failed[0]?.deviceId ?? undefined) : undefined,
    );
  }
  return EXIT.OK;
}

export const runsCommands: CommandSpec[] = [
  {
    words: ["runs", "show"],
    usage: "runs show RUN_ID",
    summary: "Show a workflow run: its status and each step with its outcome.",
    details:
      "Steps that failed show their error; a step a Catch handled shows where it went, and retries are counted.",
    options: {},
    positionals: { name: "RUN_ID", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const client = await context.client();
      const run = await client.getRun(context.args.positionals[0] as string);
      context.print(context.json ? renderJson(run) : renderRun(run));
      return EXIT.OK;
    },
  },
];
