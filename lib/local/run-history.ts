/**
 * A local run's history, as Step Functions keeps an execution's on AWS: the interpreter's event
 * log folded into steps and fan-out progress, and written to the run store.
 *
 * @module
 */
import type { StateMachine } from "aws-local-stepfunctions";
import type { RunRecord, RunStep, RunStore } from "../store/runs.ts";
import { ProgressTracker } from "../workflows/progress.ts";
import type { AslState } from "./asl.ts";

/** One event of the interpreter's log. */
export type EventLog = Awaited<
  ReturnType<ReturnType<StateMachine["run"]>["eventLogs"]["next"]>
>["value"] & {
  type: string;
};

/** How often a running run's record is rewritten with its steps and progress. */
const PROGRESS_WRITE_INTERVAL_MS = 1_000;

/** How a run ended: its status and what goes with it. */
export type RunEnd =
  | { status: "SUCCEEDED"; output: unknown }
  | { status: "FAILED"; error: string; cause: string };

/**
 * Records one run. A long run (a rotation over a fleet) shows where it is: its record is
 * rewritten at most once a second while events arrive, and once more after the last of a burst,
 * so a run waiting on one slow device still shows the progress of the others. Those writes carry
 * the run's own steps and its fan-out progress; the steps of every Map iteration (several per
 * device) are written once, with the run's end: rewriting them every second made each write, and
 * each read of `keys rotate --wait`, grow with the fleet (bench/RESULTS.md).
 */
export class RunHistory {
  readonly #run: RunRecord;
  readonly #runs: RunStore;
  readonly #steps: RunStep[] = [];
  /**
   * The steps of Map iterations (kept for the final record only), each with its iteration's
   * index: iterations run at once, so a state's events are paired with the step of their own.
   */
  readonly #nested = new WeakMap<RunStep, number>();
  readonly #tracker: ProgressTracker;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<unknown> = Promise.resolve();
  #lastWrite = 0;

  /** @param states the top-level states of the run's definition (for its fan-out progress). */
  constructor(run: RunRecord, states: Record<string, AslState>, runs: RunStore) {
    this.#run = run;
    this.#runs = runs;
    this.#tracker = new ProgressTracker(states);
  }

  /** Folds `events` until the log closes; resolves once the last progress write is done. */
  async follow(events: AsyncIterable<EventLog>): Promise<void> {
    try {
      for await (const event of events) {
        recordStep(this.#steps, this.#nested, event);
        trackProgress(this.#tracker, event);
        this.#timer ??= setTimeout(
          () => this.#writeProgress(),
          Math.max(0, PROGRESS_WRITE_INTERVAL_MS - (Date.now() - this.#lastWrite)),
        );
      }
    } finally {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#writing;
    }
  }

  /** Writes the run's final record, its open steps ended with it, and returns it. */
  async end(end: RunEnd): Promise<RunRecord> {
    const endedAt = new Date().toISOString();
    const final: RunRecord = {
      ...this.#run,
      ...end,
      endedAt,
      steps: closeSteps(this.#steps, endedAt),
      progress: this.#tracker.progress ?? undefined,
    };
    await this.#runs.put(final);
    return final;
  }

  #writeProgress(): void {
    this.#timer = undefined;
    this.#lastWrite = Date.now();
    const snapshot = {
      ...this.#run,
      steps: this.#steps.filter((step) => !this.#nested.has(step)).map((step) => ({ ...step })),
      progress: this.#tracker.progress ?? undefined,
    };
    this.#writing = this.#writing.then(() => this.#runs.put(snapshot)).catch(() => {});
  }
}

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
function recordStep(steps: RunStep[], nested: WeakMap<RunStep, number>, event: EventLog): void {
  const index = (event as { index?: number }).index;
  const at = new Date(event.timestamp).toISOString();
  if (event.type === "StateEntered") {
    const step: RunStep = {
      name: event.state.name,
      type: event.state.type,
      status: "RUNNING",
      startedAt: at,
    };
    steps.push(step);
    // Events of a Map iteration carry the iteration's index.
    if (index !== undefined) nested.set(step, index);
    return;
  }
  if (!["StateExited", "StateFailed", "StateCaught", "StateRetried"].includes(event.type)) return;
  const step = steps.findLast(
    (s) => s.name === event.state.name && s.endedAt === undefined && nested.get(s) === index,
  );
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
