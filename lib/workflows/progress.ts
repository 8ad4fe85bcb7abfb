/**
 * Fan-out progress of a run: how many items its Map states were given, how many iterations have
 * ended, and how many of those ended without doing their work. Folded from the same events the
 * local interpreter emits and Step Functions keeps in an execution's history.
 *
 * @module
 */
import type { RunProgress } from "../store/runs.ts";

/**
 * States an iteration ends in when its device was not brought up to date. An iteration catches
 * its own failures and so always "succeeds"; these names tell the two outcomes apart.
 */
export const UNDONE_ITERATION_END_STATES: ReadonlySet<string> = new Set(["NotInstalled", "Busy"]);

interface MapState {
  Type: string;
  ItemsPath?: string;
}

/** `$.a.b` of `input`; anything but a plain dotted path yields undefined. */
function atPath(input: unknown, path: string): unknown {
  if (path === "$") return input;
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) return undefined;
  let value: unknown = input;
  for (const key of path.slice(2).split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Counts a run's fan-out as its events arrive; `progress` is null until a Map has started. */
export class ProgressTracker {
  readonly #maps: ReadonlyMap<string, MapState>;
  #progress: RunProgress | null = null;
  #visits = 0;
  readonly #counted = new Set<string>();

  /** @param states the top-level states of the run's ASL definition. */
  constructor(states: Readonly<Record<string, MapState>>) {
    this.#maps = new Map(Object.entries(states).filter(([, state]) => state.Type === "Map"));
  }

  get progress(): RunProgress | null {
    return this.#progress === null ? null : { ...this.#progress };
  }

  /** A Map state was entered with `input`: its items join the total. */
  mapEntered(stateName: string, input: unknown): void {
    const state = this.#maps.get(stateName);
    if (!state) return;
    const items = atPath(input, state.ItemsPath ?? "$");
    this.#progress ??= { total: 0, done: 0, failed: 0 };
    this.#visits += 1;
    this.#progress.total += Array.isArray(items) ? items.length : 0;
  }

  /** A Map iteration started by `mapEntered` ended; `failed` when the iteration itself failed. */
  iterationEnded(failed: boolean, item?: number): void {
    if (!this.#progress) return;
    this.#progress.done += 1;
    if (failed && (item === undefined || !this.#counted.has(`${this.#visits}:${item}`))) {
      this.#progress.failed += 1;
    }
  }

  /** A state inside an iteration was entered: an undone end state counts as a failure. */
  nestedStateEntered(stateName: string, item?: number): void {
    if (!this.#progress || !UNDONE_ITERATION_END_STATES.has(stateName)) return;
    // An item's states may be reported more than once (a Parallel inside the iteration forwards
    // its events); the item counts once.
    if (item !== undefined) {
      const key = `${this.#visits}:${item}`;
      if (this.#counted.has(key)) return;
      this.#counted.add(key);
    }
    this.#progress.failed += 1;
  }
}
