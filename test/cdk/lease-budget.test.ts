import { describe, expect, it } from "vitest";
import { TASK_ACCESS } from "../../cdk/constructs/workflow-functions.ts";
import {
  functionTimeoutSeconds,
  leaseTtlSeconds,
  type SshTimeoutSettings,
} from "../../cdk/timeouts.ts";
import { definitionOf } from "../../lib/local/asl.ts";
import type { TaskName } from "../../lib/workflows/tasks/index.ts";
import { WORKFLOWS } from "../../lib/workflows/workflow-names.ts";

/**
 * Issue 10.13: the lease must outlast the longest stretch in which a run works on a device without
 * extending it. The SSH steps extend the lease as they start (holdLease); every other step of a
 * lease-holding run does not. Computed from the ASL files the stack deploys.
 */

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}
interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Seconds?: number;
  Retry?: Retrier[];
  Catch?: Array<{ Next: string }>;
  Choices?: Array<{ Next: string }>;
  ItemProcessor?: { States: Record<string, State> };
}

/** Tasks that extend the lease when they start. */
const EXTENDING = new Set<TaskName>(["Detect", "Replace", "VerifyResolved", "Resolve"]);
/** Tasks a lease-holding run never reaches while it holds the lease, or that end it. */
const OUTSIDE = new Set<TaskName>([
  "AcquireLease",
  "ReleaseLease",
  "CreateGeneration",
  "ListDevices",
  "RetireGenerations",
]);

/** Each retrier's pauses, the longest retry path's sum; Lambda's own retries count as attempts. */
function pauses(retry: Retrier[]): number[] {
  return retry.flatMap((r) =>
    Array.from({ length: r.MaxAttempts ?? 3 }, (_, k) =>
      Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k, r.MaxDelaySeconds ?? 3600),
    ),
  );
}

function taskOf(state: State): TaskName | undefined {
  return state.Resource?.match(/^\$\{(\w+)FunctionArn\}$/)?.[1] as TaskName | undefined;
}

function successors(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Catch ?? []).map((c) => c.Next),
    ...(state.Choices ?? []).map((c) => c.Next),
  ];
}

/** Every state graph of a workflow: the top level and each Map's processor. */
function graphsOf(states: Record<string, State>): Array<Record<string, State>> {
  return [
    states,
    ...Object.values(states).flatMap((s) =>
      s.ItemProcessor ? graphsOf(s.ItemProcessor.States) : [],
    ),
  ];
}

/**
 * The longest the lease may go without an extension in `workflow`, in seconds: from the start of
 * an extending task, one attempt and its longest retry pause, then the longest path of steps that
 * do not extend it (every attempt and pause of each) up to the next extension or the release.
 */
function longestUnextended(workflow: (typeof WORKFLOWS)[number], ssh: SshTimeoutSettings) {
  const timeout = (task: TaskName) => functionTimeoutSeconds(TASK_ACCESS[task].timeout, ssh);
  let longest = 0;
  for (const states of graphsOf(definitionOf(workflow).States as Record<string, State>)) {
    const memo = new Map<string, number>();
    const after = (name: string): number => {
      const state = states[name];
      const task = state ? taskOf(state) : undefined;
      if (!state || (task && (EXTENDING.has(task) || OUTSIDE.has(task)))) return 0;
      const known = memo.get(name);
      if (known !== undefined) return known;
      memo.set(name, 0); // a loop back never lengthens the stretch: it passes AcquireLease
      const waits = pauses(state.Retry ?? []);
      const own = task
        ? timeout(task) * (1 + waits.length) + waits.reduce((a, b) => a + b, 0)
        : (state.Seconds ?? 0);
      const total = own + Math.max(0, ...successors(state).map(after));
      memo.set(name, total);
      return total;
    };
    for (const state of Object.values(states)) {
      const task = taskOf(state);
      if (!task || !EXTENDING.has(task)) continue;
      const waits = pauses(state.Retry ?? []);
      const stretch = Math.max(
        timeout(task) + Math.max(0, ...waits),
        timeout(task) + Math.max(0, ...successors(state).map(after)),
      );
      longest = Math.max(longest, stretch);
    }
  }
  return longest;
}

describe("issue 10.13: the lease outlasts the longest stretch without an extension", () => {
  const settings: Record<string, SshTimeoutSettings> = {
    defaults: { connectMs: 5_000, handshakeMs: 15_000, commandMs: 20_000 },
    "slow devices": { connectMs: 30_000, handshakeMs: 60_000, commandMs: 40_000 },
  };

  it.each(Object.entries(settings))("with %s SSH timeouts", (_name, ssh) => {
    const ttl = leaseTtlSeconds(ssh);
    for (const workflow of WORKFLOWS) {
      const stretch = longestUnextended(workflow, ssh);
      expect(stretch, `${workflow}: ${stretch} s without an extension`).toBeGreaterThan(0);
      expect(stretch, `${workflow}: ${stretch} s without an extension`).toBeLessThan(ttl);
    }
  });

  it("every task that takes, extends or gives back the lease may write the devices table", () => {
    // Each of them sends a conditional UpdateItem on the device item (lib/store/device-lease.ts);
    // with read access only, it would be refused on AWS at every run.
    for (const task of [...EXTENDING, "AcquireLease", "ReleaseLease"] as TaskName[]) {
      expect(TASK_ACCESS[task].devices, task).toBe("write");
    }
  });

  it("every extending task receives the run's lease owner from every ASL file", () => {
    for (const workflow of WORKFLOWS) {
      const states = definitionOf(workflow).States as Record<string, State>;
      for (const state of graphsOf(states).flatMap((g) => Object.values(g))) {
        const task = taskOf(state);
        if (!task || (!EXTENDING.has(task) && task !== "MarkHealthy" && task !== "MarkFailed")) {
          continue;
        }
        const parameters = (state as { Parameters?: Record<string, unknown> }).Parameters ?? {};
        expect(Object.keys(parameters), `${workflow} ${task}`).toContain("owner.$");
      }
    }
  });
});
