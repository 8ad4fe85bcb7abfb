/**
 * Run history on AWS: `GET /runs/{id}` reads Step Functions' own record of an execution
 * (DescribeExecution + GetExecutionHistory) into the same {@link RunRecord} local mode stores.
 *
 * @module
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type { RunProgress, RunReader, RunRecord, RunStatus, RunStep } from "../store/runs.ts";
import { ProgressTracker } from "./progress.ts";
import { executionArnOf } from "./starters.ts";

/** An execution ARN; a Distributed Map child's carries `/<map run label>` after the machine. */
const EXECUTION_ARN =
  /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:execution:([A-Za-z0-9_-]{1,80})(?:\/[A-Za-z0-9_-]{1,80})?:([A-Za-z0-9_-]{1,80})$/;
const RUN_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** History pages read at most (1,000 events each): a rotation over a large fleet is long. */
const MAX_HISTORY_PAGES = 20;

export interface StepFunctionsRunReaderOptions {
  client: SFNClient;
  /** State machine name → workflow name (`keyheal-rotate` → `rotate`). */
  workflowOf: (stateMachineName: string) => string;
  /** Top-level ASL states per workflow, for the fan-out progress of Map states. */
  statesOf: (workflow: string) => Readonly<Record<string, { Type: string; ItemsPath?: string }>>;
  /**
   * The deployed state machines: a bare run name (the id a failure record or an older client
   * holds) is looked up as an execution of each, the machine its prefix names first.
   */
  stateMachineArns?: Readonly<Record<string, string>>;
}

/** Reads a run by its execution ARN; undefined for an id that names no execution. */
export class StepFunctionsRunReader implements RunReader {
  readonly #options: StepFunctionsRunReaderOptions;

  constructor(options: StepFunctionsRunReaderOptions) {
    this.#options = options;
  }

  /** A run by execution ARN or, with `stateMachineArns`, by bare execution name. */
  async get(id: string): Promise<RunRecord | undefined> {
    if (EXECUTION_ARN.test(id)) return this.#read(id);
    if (!RUN_NAME.test(id)) return undefined;
    const machines = Object.entries(this.#options.stateMachineArns ?? {}).sort(
      ([a], [b]) => Number(id.startsWith(`${b}-`)) - Number(id.startsWith(`${a}-`)),
    );
    for (const [, machine] of machines) {
      const arn = executionArnOf(machine, id);
      const run = arn === undefined ? undefined : await this.#read(arn);
      if (run) return run;
    }
    return undefined;
  }

  #mapRunProgress(events: readonly HistoryEvent[]): Promise<RunProgress | undefined> {
    return mapRunProgress(this.#options.client, events);
  }

  async #read(id: string): Promise<RunRecord | undefined> {
    const match = EXECUTION_ARN.exec(id);
    if (!match) return undefined;
    const { client } = this.#options;
    let description: DescribeExecutionCommandOutput;
    try {
      description = await client.send(new DescribeExecutionCommand({ executionArn: id }));
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
    const workflow = this.#options.workflowOf(match[1] as string);
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new GetExecutionHistoryCommand({
          executionArn: id,
          maxResults: 1000,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken && pages < MAX_HISTORY_PAGES);
    const input = parseJson(description.input);
    const deviceId =
      typeof input === "object" && input !== null && "deviceId" in input
        ? String((input as { deviceId: unknown }).deviceId)
        : null;
    const folded = foldHistory(events, this.#options.statesOf(workflow));
    const { steps } = folded;
    const progress = (await this.#mapRunProgress(events)) ?? folded.progress;
    return {
      id,
      workflow,
      deviceId,
      status: runStatus(description.status),
      startedAt: (description.startDate ?? new Date(0)).toISOString(),
      endedAt: description.stopDate ? description.stopDate.toISOString() : null,
      output: parseJson(description.output),
      error: description.error,
      cause: description.cause,
      steps,
      stepsOmitted: nextToken ? 1 : undefined,
      progress: progress ?? undefined,
    };
  }
}

/**
 * A Distributed Map's children keep their own histories, so the parent's holds no iterations:
 * the fan-out is read from each Map Run's item counts (DescribeMapRun), summed over the phases.
 */
async function mapRunProgress(
  client: SFNClient,
  events: readonly HistoryEvent[],
): Promise<RunProgress | undefined> {
  const arns = events.flatMap((event) => event.mapRunStartedEventDetails?.mapRunArn ?? []);
  if (arns.length === 0) return undefined;
  const progress: RunProgress = { total: 0, done: 0, failed: 0 };
  for (const mapRunArn of arns) {
    const counts = (await client.send(new DescribeMapRunCommand({ mapRunArn }))).itemCounts;
    if (!counts) continue;
    const failed = (counts.failed ?? 0) + (counts.timedOut ?? 0) + (counts.aborted ?? 0);
    progress.total += counts.total ?? 0;
    progress.done += (counts.succeeded ?? 0) + failed;
    progress.failed += failed;
  }
  return progress;
}

function runStatus(status: ExecutionStatus | undefined): RunStatus {
  if (status === "SUCCEEDED") return "SUCCEEDED";
  if (status === "RUNNING" || status === "PENDING_REDRIVE" || status === undefined) {
    return "RUNNING";
  }
  // FAILED, TIMED_OUT, ABORTED: the run did not finish its work.
  return "FAILED";
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Steps and fan-out progress from an execution's history events. A state's failure is the
 * Task's or Lambda's failed event; entering another state of the same iteration afterwards means
 * a Catch moved on (CAUGHT); a second schedule of the same Task is a Retry.
 */
export function foldHistory(
  events: readonly HistoryEvent[],
  states: Readonly<Record<string, { Type: string; ItemsPath?: string }>>,
): { steps: RunStep[]; progress: RunProgress | null } {
  const steps: RunStep[] = [];
  const tracker = new ProgressTracker(states);
  const open = new Map<number, RunStep>();
  let mapDepth = 0;
  for (const event of events) {
    const at = (event.timestamp ?? new Date(0)).toISOString();
    const type = event.type ?? "";
    if (type.endsWith("StateEntered") && event.stateEnteredEventDetails?.name) {
      const name = event.stateEnteredEventDetails.name;
      const parent = event.previousEventId ?? 0;
      const previous = open.get(parent);
      if (previous && previous.status === "FAILED") {
        previous.status = "CAUGHT";
        previous.caughtBy = name;
        previous.endedAt = at;
      }
      const step: RunStep = {
        name,
        type: type.slice(0, -"StateEntered".length),
        status: "RUNNING",
        startedAt: at,
      };
      steps.push(step);
      open.set(event.id ?? 0, step);
      if (mapDepth === 0 && step.type === "Map") {
        tracker.mapEntered(name, parseJson(event.stateEnteredEventDetails.input));
      } else if (mapDepth > 0) {
        tracker.nestedStateEntered(name);
      }
      continue;
    }
    if (type === "MapStateStarted") mapDepth += 1;
    if (type === "MapStateSucceeded" || type === "MapStateFailed" || type === "MapStateAborted") {
      mapDepth = Math.max(0, mapDepth - 1);
    }
    if (type === "MapIterationSucceeded" || type === "MapIterationFailed") {
      tracker.iterationEnded(type === "MapIterationFailed");
      continue;
    }
    const step = owner(open, event);
    if (!step) continue;
    if (type.endsWith("StateExited")) {
      if (step.status === "RUNNING") step.status = "SUCCEEDED";
      step.endedAt = at;
    } else if (type === "TaskFailed" || type === "LambdaFunctionFailed") {
      const details = event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails;
      step.status = "FAILED";
      step.error = details?.error;
      step.cause = details?.cause?.slice(0, 2000);
    } else if (type === "TaskScheduled" || type === "LambdaFunctionScheduled") {
      if (step.error !== undefined) {
        step.retries = (step.retries ?? 0) + 1;
        step.status = "RUNNING";
        step.error = undefined;
        step.cause = undefined;
      }
    }
    open.set(event.id ?? 0, step);
  }
  return { steps, progress: tracker.progress };
}

/** The step an event belongs to: the one its chain of previous events leads back to. */
function owner(open: ReadonlyMap<number, RunStep>, event: HistoryEvent): RunStep | undefined {
  return open.get(event.previousEventId ?? -1);
}
