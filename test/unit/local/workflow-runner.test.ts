import { setImmediate } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { LocalHandler } from "../../../lib/local/workflow-runner.ts";
import { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { RunRecord, RunStore } from "../../../lib/store/runs.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";

/** V8's full collection, for this test alone (`--expose-gc` turned on at run time). */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A run store in memory: what the runner writes, nothing else. */
class MemoryRunStore implements RunStore {
  readonly runs = new Map<string, RunRecord>();
  async create(run: RunRecord) {
    if (this.runs.has(run.id)) return false;
    this.runs.set(run.id, structuredClone(run));
    return true;
  }
  async put(run: RunRecord) {
    this.runs.set(run.id, structuredClone(run));
    return true;
  }
  async get(id: string) {
    return this.runs.get(id);
  }
  async list() {
    return { items: [...this.runs.values()] };
  }
}

/** The reconnect workflow's Tasks answering as for a device that is already current. */
const HEALTHY: Record<string, unknown> = {
  AcquireLease: { acquired: true },
  Detect: { outcome: "HEALTHY", generation: 1, hostKeyFingerprint: "SHA256:host" },
  MarkHealthy: { status: "KEY_BASED" },
  ReleaseLease: { released: true, recheck: false },
};

describe("LocalWorkflowRunner", () => {
  it("keeps nothing of a run once it has ended: its input and output are reclaimed", async () => {
    const runs = new MemoryRunStore();
    const outputs = new Set<WeakRef<object>>();
    const runner = new LocalWorkflowRunner({
      deps: {} as WorkflowDeps,
      runs,
      wrap:
        ({ task }): LocalHandler =>
        async () => {
          const output = { ...(HEALTHY[task] as object) };
          outputs.add(new WeakRef(output));
          return output as never;
        },
    });
    const inputs: WeakRef<object>[] = [];
    const RUNS = 40;
    // Each run in a function of its own, so that no frame of the test holds its input.
    const runOne = async (i: number) => {
      const input = { deviceId: `dev-${i}`, trigger: "device", attempt: 1 };
      inputs.push(new WeakRef(input));
      const started = await runner.start("reconnect", `run-${i}`, input);
      return (await started.done).status;
    };
    for (let i = 0; i < RUNS; i++) expect(await runOne(i)).toBe("SUCCEEDED");
    await runner.drain();
    expect(outputs.size).toBe(RUNS * 4);
    // Nothing of an ended run stays reachable: not the execution, its event log or its timers.
    await setImmediate();
    gc();
    expect(inputs.flatMap((ref, i) => (ref.deref() === undefined ? [] : [i]))).toEqual([]);
    expect([...outputs].filter((ref) => ref.deref() !== undefined)).toEqual([]);
    expect(runs.runs.get("run-0")?.steps.map((s) => s.name)).toEqual([
      "AcquireLease",
      "LeaseHeld?",
      "Detect",
      "Conflict?",
      "MarkHealthy",
      "ReleaseLease",
      "Recheck?",
      "Healed",
    ]);
  });
});
