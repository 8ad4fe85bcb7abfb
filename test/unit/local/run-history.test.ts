import { describe, expect, it } from "vitest";
import { type EventLog, RunHistory } from "../../../lib/local/run-history.ts";
import type { RunRecord, RunStore } from "../../../lib/store/runs.ts";

/** A run store that keeps every record written, in order. */
class RecordingRunStore implements Pick<RunStore, "put"> {
  readonly puts: RunRecord[] = [];
  #written: (() => void) | undefined;

  async put(run: RunRecord) {
    this.puts.push(structuredClone(run));
    this.#written?.();
    return true;
  }

  /** Resolves at the next write. */
  nextWrite(): Promise<void> {
    return new Promise((resolve) => {
      this.#written = resolve;
    });
  }
}

const STATES = {
  CreateGeneration: { Type: "Task" },
  InstallDevices: { Type: "Map", ItemsPath: "$.devices" },
  Rotated: { Type: "Succeed" },
};

let clock = Date.parse("2031-06-01T12:00:00Z");
function tick(): number {
  clock += 10;
  return clock;
}
function event(type: string, name: string, extra: Record<string, unknown> = {}): EventLog {
  const stateType = (STATES as Record<string, { Type: string }>)[name]?.Type ?? "Task";
  return {
    type,
    timestamp: tick(),
    state: { name, type: stateType, input: extra.input ?? {} },
    ...extra,
  } as unknown as EventLog;
}

/** A rotation over `devices`: each iteration's three states, then the run's end. */
async function* rotation(devices: number, store: RecordingRunStore) {
  yield event("StateEntered", "CreateGeneration");
  yield event("StateExited", "CreateGeneration");
  const ids = Array.from({ length: devices }, (_, i) => `d-${i}`);
  yield event("StateEntered", "InstallDevices", { input: { devices: ids } });
  for (let index = 0; index < devices; index++) {
    for (const name of ["AcquireLease", "Install", "MarkInstalled"]) {
      yield event("StateEntered", name, { index });
      yield event("StateExited", name, { index });
    }
    yield { type: "MapIterationSucceeded", timestamp: tick(), index } as EventLog;
  }
  // The run waits here (a slow device): the progress written meanwhile is what a poll sees.
  await store.nextWrite();
  yield event("StateExited", "InstallDevices");
  yield event("StateEntered", "Rotated");
  yield event("StateExited", "Rotated");
}

/** A rotation's record as the runner starts it. */
function rotationRun(id: string): RunRecord {
  return {
    id,
    workflow: "rotate",
    deviceId: null,
    status: "RUNNING",
    startedAt: new Date(clock).toISOString(),
    endedAt: null,
    steps: [],
  };
}

describe("a local run's history", () => {
  it("issue 12.3: progress writes carry the run's own steps and its progress; iteration steps are written once, at the end", async () => {
    const store = new RecordingRunStore();
    const run = rotationRun("rotate-1");
    const history = new RunHistory(run, STATES, store as unknown as RunStore);
    await history.follow(rotation(5, store));
    const final = await history.end({ status: "SUCCEEDED", output: {} });

    const progress = store.puts.filter((p) => p.status === "RUNNING");
    expect(progress.length).toBeGreaterThan(0);
    for (const written of progress) {
      for (const step of written.steps) {
        expect(["CreateGeneration", "InstallDevices", "Rotated"]).toContain(step.name);
      }
    }
    expect(progress[0]?.steps.map((s) => s.name)).toEqual(["CreateGeneration", "InstallDevices"]);
    expect(progress[0]?.progress).toEqual({ total: 5, done: 5, failed: 0 });

    expect(final.status).toBe("SUCCEEDED");
    expect(final.steps).toHaveLength(2 + 5 * 3 + 1);
    expect(final.steps.filter((s) => s.name === "Install")).toHaveLength(5);
    expect(final.steps.every((s) => s.status === "SUCCEEDED" && s.endedAt)).toBe(true);
    expect(store.puts.at(-1)).toEqual(final);
  });
});

describe("steps of Map iterations running at once", () => {
  it("each iteration's step is ended by its own events, not by another iteration's of the same name", async () => {
    const store = new RecordingRunStore();
    const run = rotationRun("rotate-2");
    // Two devices installed at once: 0 starts first and fails; 1 starts later and succeeds.
    async function* overlapping() {
      yield event("StateEntered", "InstallDevices", { input: { devices: ["a", "b"] } });
      yield event("StateEntered", "Install", { index: 0 });
      yield event("StateEntered", "Install", { index: 1 });
      yield event("StateFailed", "Install", {
        index: 0,
        Error: "Keyheal.Failed",
        Cause: "refused",
      });
      yield event("StateCaught", "Install", {
        index: 0,
        catch: { catcher: { Next: "RecordFailure" } },
      });
      yield event("StateExited", "Install", { index: 1 });
      yield event("StateExited", "InstallDevices");
    }
    const history = new RunHistory(run, STATES, store as unknown as RunStore);
    await history.follow(overlapping());
    const final = await history.end({ status: "SUCCEEDED", output: {} });
    const installs = final.steps.filter((s) => s.name === "Install");
    expect(installs.map((s) => s.status)).toEqual(["CAUGHT", "SUCCEEDED"]);
    expect(installs[0]).toMatchObject({ error: "Keyheal.Failed", caughtBy: "RecordFailure" });
    expect(installs[1]?.error).toBeUndefined();
    // Iteration 0 ended (caught) before iteration 1 did.
    expect(Date.parse(installs[0]?.endedAt ?? "")).toBeLessThan(
      Date.parse(installs[1]?.endedAt ?? ""),
    );
  });
});
