import { readFileSync } from "node:fs";
import type { Context } from "aws-lambda";
import { StateMachine } from "aws-local-stepfunctions";
import { workflowTask } from "../lambda/bundle.ts";
import type { RunRecord, RunStep, RunStore } from "../store/runs.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import { ProgressTracker } from "../workflows/progress.ts";
import { TASKS, type TaskName } from "../workflows/tasks/index.ts";
import { releaseRun } from "../workflows/tasks/rotate.ts";
import { WORKFLOWS, type WorkflowName } from "../workflows/workflow-names.ts";
import {
  COUNT_FAILURE_STATE,
  FailureTallies,
  inlineDistributedMaps,
  READ_ITEMS_SUFFIX,
  readItems,
} from "./distributed-map.ts";
export { WORKFLOWS, type WorkflowName };

type Json = Parameters<StateMachine["run"]>[0];
type EventLog = Awaited<
  ReturnType<ReturnType<StateMachine["run"]>["eventLogs"]["next"]>
>["value"] & {
  type: string;
};
export type LocalHandler = (input: Json) => Promise<Json>;
type AslState = {
  Type: string;
  Resource?: string;
  ItemsPath?: string;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
};

/** The ASL file of a workflow: the same file the CDK stack deploys. */
export function definitionOf(workflow: WorkflowName): { States: Record<string, AslState> } {
  const url = new URL(`../workflows/${workflow}.asl.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8"));
}

/** Task state name → Task name, from `${NameFunctionArn}` Resources, Map processors included. */
export function taskStates(states: Record<string, AslState>): Record<string, TaskName> {
  const bound: Record<string, TaskName> = {};
  for (const [stateName, state] of Object.entries(states)) {
    const match = state.Resource?.match(/^\$\{(\w+)FunctionArn\}$/);
    if (state.Type === "Task" && match?.[1]) bound[stateName] = match[1] as TaskName;
    const nested = state.ItemProcessor?.States ?? state.Iterator?.States;
    if (nested) Object.assign(bound, taskStates(nested));
    for (const branch of state.Branches ?? []) Object.assign(bound, taskStates(branch.States));
  }
  return bound;
}

/** `${NameFunctionArn}` → a local Lambda ARN, as `definitionSubstitutions` does on AWS. */
export function substituteLocalArns<T>(definition: T): T {
  const text = JSON.stringify(definition).replace(
    /\$\{(\w+)FunctionArn\}/g,
    (_m, name: string) => `arn:aws:lambda:us-east-1:000000000000:function:keyheal-${name}`,
  );
  return JSON.parse(text) as T;
}

function lambdaContext(name: string, deps: WorkflowDeps): Context & { deps: WorkflowDeps } {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `keyheal-local-${name}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:keyheal-${name}`,
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: "local",
    logStreamName: "local",
    getRemainingTimeInMillis: () => 900_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
    deps,
  };
}

export interface LocalRunnerOptions {
  deps: WorkflowDeps;
  runs: RunStore;
  /** Replaces the handler bound to a Task (tests inject faults around the real handler). */
  wrap?: (
    where: { workflow: WorkflowName; stateName: string; task: TaskName },
    handler: LocalHandler,
  ) => LocalHandler;
  /** Per state name, in ms: shortens Retry pauses (tests). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Per Wait state name, in ms: shortens Wait states (tests). */
  waitTimeOverrides?: Record<string, number>;
}

export interface StartedRun {
  run: RunRecord;
  /** False when a run of that name already existed: a duplicate event starts no second run. */
  started: boolean;
  done: Promise<RunRecord>;
}

/**
 * A task's error as Lambda reports it to Step Functions: its name and message only. The
 * interpreter takes an error's `cause` for the state's Cause when there is one, and a TaskError
 * keeps the original error there (for logs): the Cause must stay the message, as on AWS.
 */
function asLambdaReportsIt(error: unknown): unknown {
  if (!(error instanceof Error) || error.cause === undefined) return error;
  const reported = new Error(error.message);
  reported.name = error.name;
  return reported;
}

/**
 * Runs the workflows' ASL files with the aws-local-stepfunctions interpreter, each Task bound
 * to the same middy handler Lambda runs, and keeps run history in the run store.
 */
export class LocalWorkflowRunner {
  readonly #options: LocalRunnerOptions;
  readonly #machines = new Map<
    WorkflowName,
    {
      machine: StateMachine;
      handlers: Record<string, LocalHandler>;
      states: Record<string, AslState>;
    }
  >();
  readonly #inFlight = new Set<Promise<RunRecord>>();
  /** Task calls still running, by run: an aborted Map iteration's handler runs on. */
  readonly #calls = new Map<string, Set<Promise<unknown>>>();

  #track(runId: string, call: Promise<unknown>): void {
    const calls = this.#calls.get(runId) ?? new Set<Promise<unknown>>();
    this.#calls.set(runId, calls);
    const settled = call.catch(() => {});
    calls.add(settled);
    void settled.finally(() => {
      calls.delete(settled);
      if (calls.size === 0) this.#calls.delete(runId);
    });
  }

  /**
   * After a rotation failed (a failed canary, too many failures): what its iterations still
   * hold is released, once the task calls it left running have ended, as the ReleaseRun rule
   * does on AWS.
   */
  async #releaseFailedRun(executionId: string, name: string): Promise<void> {
    for (let calls = this.#calls.get(executionId); calls; calls = this.#calls.get(executionId)) {
      await Promise.all([...calls]);
    }
    await releaseRun(this.#options.deps, { runId: executionId, owner: name, status: "FAILED" });
  }

  constructor(options: LocalRunnerOptions) {
    this.#options = options;
    const lambdas = new Map<TaskName, ReturnType<typeof workflowTask>>();
    const tallies = new FailureTallies();
    for (const workflow of WORKFLOWS) {
      // The same file as on AWS, its Distributed Maps made inline (lib/local/distributed-map.ts).
      const definition = inlineDistributedMaps(definitionOf(workflow));
      const handlers: Record<string, LocalHandler> = {};
      for (const stateName of Object.keys(definition.States)) {
        if (!stateName.endsWith(READ_ITEMS_SUFFIX)) continue;
        handlers[stateName] = async (input) =>
          (await readItems(options.deps.manifests, tallies, input as never)) as Json;
        handlers[COUNT_FAILURE_STATE] = async (input) => {
          tallies.fail((input as { tally: string }).tally);
          return input;
        };
      }
      for (const [stateName, task] of Object.entries(taskStates(definition.States))) {
        let lambda = lambdas.get(task);
        if (!lambda) {
          lambda = workflowTask(task, TASKS[task]);
          lambdas.set(task, lambda);
        }
        const bound = lambda;
        const direct: LocalHandler = (input) => {
          const call = (
            bound(input as never, lambdaContext(task, options.deps)) as Promise<Json>
          ).catch((error: unknown) => {
            throw asLambdaReportsIt(error);
          });
          const runId = (input as { runId?: unknown } | null)?.runId;
          if (typeof runId === "string") this.#track(runId, call);
          return call;
        };
        handlers[stateName] = options.wrap
          ? options.wrap({ workflow, stateName, task }, direct)
          : direct;
      }
      // Built once per definition and reused: each run() is independent. The placeholders are
      // substituted as CDK's definitionSubstitutions do, with local function ARNs. Not validated
      // here: asl-validator builds and compiles its JSON schemas anew at every call (about a
      // second of CPU per start, bench/RESULTS.md), and the same definitions are validated by
      // test/unit/workflows/asl.test.ts before they ship.
      const machine = new StateMachine(substituteLocalArns(definition) as never, {
        validationOptions: { noValidate: true },
      });
      this.#machines.set(workflow, { machine, handlers, states: definition.States });
    }
  }

  /**
   * Starts a run named `name` (the same name Step Functions would get). A name already used
   * returns the existing run with `started: false`.
   */
  async start(
    workflow: WorkflowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<StartedRun> {
    const entry = this.#machines.get(workflow);
    if (!entry) throw new Error(`unknown workflow ${workflow}`);
    const startedAt = new Date().toISOString();
    const run: RunRecord = {
      id: name,
      workflow,
      deviceId: typeof input.deviceId === "string" ? input.deviceId : null,
      status: "RUNNING",
      startedAt,
      endedAt: null,
      steps: [],
    };
    const created = await this.#options.runs.create(run);
    if (!created) {
      const existing = await this.#options.runs.get(name);
      if (!existing) throw new Error(`run ${name} vanished`);
      return { run: existing, started: false, done: this.#waitFor(name) };
    }
    const execution = entry.machine.run(input as Json, {
      overrides: {
        taskResourceLocalHandlers: entry.handlers,
        ...(this.#options.retryIntervalOverrides
          ? { retryIntervalOverrides: this.#options.retryIntervalOverrides }
          : {}),
        ...(this.#options.waitTimeOverrides
          ? { waitTimeOverrides: this.#options.waitTimeOverrides }
          : {}),
      },
      context: {
        Execution: {
          Id: `local:${workflow}:${name}`,
          Name: name,
          Input: input as Json,
          StartTime: startedAt,
        },
      },
    });
    const steps: RunStep[] = [];
    const tracker = new ProgressTracker(entry.states);
    // A long run (a rotation over a fleet) shows where it is: its record is rewritten at most
    // once a second while events arrive, and once more after the last of a burst, so a run
    // waiting on one slow device still shows the progress of the others.
    let timer: NodeJS.Timeout | undefined;
    let writing: Promise<unknown> = Promise.resolve();
    let lastWrite = 0;
    const writeProgress = () => {
      timer = undefined;
      lastWrite = Date.now();
      const snapshot = {
        ...run,
        steps: steps.map((step) => ({ ...step })),
        progress: tracker.progress ?? undefined,
      };
      writing = writing.then(() => this.#options.runs.put(snapshot)).catch(() => {});
    };
    const collect = (async () => {
      for await (const event of execution.eventLogs) {
        recordStep(steps, event);
        trackProgress(tracker, event);
        timer ??= setTimeout(
          writeProgress,
          Math.max(0, PROGRESS_WRITE_INTERVAL_MS - (Date.now() - lastWrite)),
        );
      }
    })().finally(async () => {
      clearTimeout(timer);
      timer = undefined;
      await writing;
    });
    const done = (async () => {
      let final: RunRecord;
      try {
        const output = await execution.result;
        await collect.catch(() => {});
        const endedAt = new Date().toISOString();
        final = {
          ...run,
          status: "SUCCEEDED",
          endedAt,
          steps: closeSteps(steps, endedAt),
          output,
          progress: tracker.progress ?? undefined,
        };
      } catch (error) {
        await collect.catch(() => {});
        const e = error as { name?: string; message?: string; cause?: unknown };
        if (workflow === "rotate") {
          await this.#releaseFailedRun(`local:${workflow}:${name}`, name).catch((cleanup) =>
            this.#options.deps.logger.error("release after failed rotation", { error: cleanup }),
          );
        }
        const endedAt = new Date().toISOString();
        final = {
          ...run,
          status: "FAILED",
          endedAt,
          steps: closeSteps(steps, endedAt),
          progress: tracker.progress ?? undefined,
          // The interpreter wraps what failed the run (a Fail state's Error and Cause) in an
          // ExecutionError; the run reports the inner one, as Step Functions does.
          ...(e.cause instanceof Error
            ? { error: e.cause.name, cause: e.cause.message }
            : {
                error: e.name ?? "Error",
                cause: typeof e.cause === "string" ? e.cause : (e.message ?? ""),
              }),
        };
      }
      await this.#options.runs.put(final);
      return final;
    })();
    this.#inFlight.add(done);
    done.finally(() => this.#inFlight.delete(done));
    return { run, started: true, done };
  }

  async #waitFor(id: string): Promise<RunRecord> {
    for (;;) {
      const run = await this.#options.runs.get(id);
      if (run && run.status !== "RUNNING") return run;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves when every run started by this runner has ended (clean shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }
}

/** How often a running run's record is rewritten with its steps and progress. */
const PROGRESS_WRITE_INTERVAL_MS = 1_000;

function trackProgress(tracker: ProgressTracker, event: EventLog): void {
  const e = event as EventLog & { index?: number; state?: { name: string; input?: unknown } };
  if (event.type === "StateEntered" && e.state) {
    if (e.index === undefined) tracker.mapEntered(e.state.name, e.state.input);
    else tracker.nestedStateEntered(e.state.name, e.index);
  } else if (event.type === "MapIterationSucceeded" || event.type === "MapIterationFailed") {
    tracker.iterationEnded(event.type === "MapIterationFailed", e.index);
  }
}

/**
 * Folds the interpreter's event log into steps. A failing state emits StateFailed, then either
 * StateRetried (and runs again) or StateCaught; a state stays open until one of them settles it.
 */
function recordStep(steps: RunStep[], event: EventLog): void {
  const at = new Date(event.timestamp).toISOString();
  if (event.type === "StateEntered") {
    steps.push({
      name: event.state.name,
      type: event.state.type,
      status: "RUNNING",
      startedAt: at,
    });
    return;
  }
  if (!["StateExited", "StateFailed", "StateCaught", "StateRetried"].includes(event.type)) return;
  const step = [...steps]
    .reverse()
    .find((s) => s.name === event.state.name && s.endedAt === undefined);
  if (!step) return;
  switch (event.type) {
    case "StateExited":
      step.status = "SUCCEEDED";
      step.endedAt = at;
      return;
    case "StateFailed":
      step.status = "FAILED";
      step.error = event.Error;
      step.cause = typeof event.Cause === "string" ? event.Cause.slice(0, 2000) : undefined;
      return;
    case "StateRetried":
      step.status = "RUNNING";
      step.retries = (step.retries ?? 0) + 1;
      return;
    case "StateCaught":
      step.status = "CAUGHT";
      step.caughtBy = event.catch.catcher.Next;
      step.endedAt = at;
      return;
  }
}

/** Steps a failed run left open end with the run. */
function closeSteps(steps: RunStep[], at: string): RunStep[] {
  for (const step of steps) if (step.endedAt === undefined) step.endedAt = at;
  return steps;
}
