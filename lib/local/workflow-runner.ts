/**
 * The local runtime's Step Functions: the workflows' ASL files (`asl.ts`) run by the
 * aws-local-stepfunctions interpreter, each Task bound to the same middy handler Lambda runs
 * (`lambda-context.ts`), each run's history kept in the run store (`run-history.ts`).
 *
 * @module
 */
import { StateMachine } from "aws-local-stepfunctions";
import { workflowTask } from "../lambda/bundle.ts";
import type { RunRecord, RunStore } from "../store/runs.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import { TASKS, type TaskName } from "../workflows/tasks/index.ts";
import { releaseRun } from "../workflows/tasks/rotate.ts";
import { WORKFLOWS, type WorkflowName } from "../workflows/workflow-names.ts";
import { type AslState, definitionOf, substituteLocalArns, taskStates } from "./asl.ts";
import {
  COUNT_FAILURE_STATE,
  FailureTallies,
  inlineDistributedMaps,
  READ_ITEMS_SUFFIX,
  readItems,
} from "./distributed-map.ts";
import { asLambdaReportsIt, invokeLocally, lambdaContext } from "./lambda-context.ts";
import { RunHistory } from "./run-history.ts";

export { WORKFLOWS, type WorkflowName };

type Json = Parameters<StateMachine["run"]>[0];
export type LocalHandler = (input: Json) => Promise<Json>;

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
            invokeLocally(bound, input as never, lambdaContext(task, options.deps)) as Promise<Json>
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
    const history = new RunHistory(run, entry.states, this.#options.runs);
    const collect = history.follow(execution.eventLogs);
    const done = (async () => {
      try {
        const output = await execution.result;
        await collect.catch(() => {});
        return await history.end({ status: "SUCCEEDED", output });
      } catch (error) {
        await collect.catch(() => {});
        if (workflow === "rotate") {
          await this.#releaseFailedRun(`local:${workflow}:${name}`, name).catch((cleanup) =>
            this.#options.deps.logger.error("release after failed rotation", { error: cleanup }),
          );
        }
        // The interpreter wraps what failed the run (a Fail state's Error and Cause) in an
        // ExecutionError; the run reports the inner one, as Step Functions does.
        const e = error as { name?: string; message?: string; cause?: unknown };
        return await history.end(
          e.cause instanceof Error
            ? { status: "FAILED", error: e.cause.name, cause: e.cause.message }
            : {
                status: "FAILED",
                error: e.name ?? "Error",
                cause: typeof e.cause === "string" ? e.cause : (e.message ?? ""),
              },
        );
      } finally {
        // Its Map has read them; a rotation that ended keeps no fleet list in memory.
        if (workflow === "rotate") this.#options.deps.manifests?.discardRun?.(name);
      }
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
