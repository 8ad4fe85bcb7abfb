import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import { definitionOf } from "../../../lib/local/asl.ts";
import type { LocalHandler, LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { RunRecord } from "../../../lib/store/runs.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { WORKFLOWS, type WorkflowName } from "../../../lib/workflows/workflow-names.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

/**
 * Every Retry and every Catch of every ASL file is taken at least once: a fault is injected in
 * front of the real handler of one state (the handler itself still runs on every other call),
 * and the run's own step log must show that state retried, or caught towards the catcher's Next.
 */

type AslState = {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  ItemProcessor?: { States: Record<string, AslState> };
};
interface Target {
  workflow: WorkflowName;
  state: string;
  kind: "retry" | "catch";
  error: string;
  next?: string;
}

function targetsOf(workflow: WorkflowName, states: Record<string, AslState>): Target[] {
  const targets: Target[] = [];
  for (const [state, def] of Object.entries(states)) {
    for (const retrier of def.Retry ?? []) {
      targets.push({ workflow, state, kind: "retry", error: retrier.ErrorEquals[0] ?? "" });
    }
    for (const catcher of def.Catch ?? []) {
      const first = catcher.ErrorEquals[0] ?? "";
      targets.push({
        workflow,
        state,
        kind: "catch",
        error: first === "States.ALL" ? "Keyheal.Failed" : first,
        next: catcher.Next,
      });
    }
    if (def.ItemProcessor) targets.push(...targetsOf(workflow, def.ItemProcessor.States));
  }
  return targets;
}

type Fault = { error: string; times: number };
let plan = new Map<string, Fault>();

function injected(error: string): Error {
  const e = new Error(
    JSON.stringify({ cause: "INTERNAL", operation: "DETECT", message: `injected ${error}` }),
  );
  e.name = error;
  return e;
}

/** States only reached on a failure path, and the fault that leads there. */
const OPENERS: Record<WorkflowName, Record<string, [string, Fault]>> = {
  reconnect: {
    Diagnose: ["Detect", { error: "Keyheal.Unreachable", times: 99 }],
    RecordFailure: ["Detect", { error: "Keyheal.Failed", times: 99 }],
    MarkFailed: ["Detect", { error: "Keyheal.Failed", times: 99 }],
    ReleaseAfterFailure: ["Detect", { error: "Keyheal.Failed", times: 99 }],
  },
  resolve: {
    RecordFailure: ["Resolve", { error: "Keyheal.Failed", times: 99 }],
    MarkFailed: ["Resolve", { error: "Keyheal.Failed", times: 99 }],
    ReleaseAfterFailure: ["Resolve", { error: "Keyheal.Failed", times: 99 }],
    ForgetAfterFailure: ["Resolve", { error: "Keyheal.Failed", times: 99 }],
  },
  rotate: {
    RecordFailure: ["Install", { error: "Keyheal.Failed", times: 99 }],
    MarkFailed: ["Install", { error: "Keyheal.Failed", times: 99 }],
    ReleaseAfterFailure: ["Install", { error: "Keyheal.Failed", times: 99 }],
    // With no failure tolerated (input below), a failed Install stops the fan-out.
    InstallDevices: ["Install", { error: "Keyheal.Failed", times: 99 }],
  },
};

let env: WorkflowEnv;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let gen1: KeyPair;
let counter = 0;
const password = inject("devicePassword");
const device = () => env.device();

beforeAll(async () => {
  const zero: Record<string, number> = {};
  for (const w of WORKFLOWS) {
    const walk = (states: Record<string, AslState>) => {
      for (const [name, def] of Object.entries(states)) {
        zero[name] = 0;
        if (def.ItemProcessor) walk(def.ItemProcessor.States);
      }
    };
    walk(definitionOf(w).States as Record<string, AslState>);
  }
  env = await startWorkflowEnv({
    name: "rc",
    devices: 1,
    // Runs here are sequential, and an injected fault may skip a release: leases lapse at once.
    local: { leaseTtlMs: 1 },
    runner: {
      retryIntervalOverrides: zero,
      wrap: ({ stateName }, handler): LocalHandler => {
        return async (input) => {
          const fault = plan.get(stateName);
          if (fault && fault.times > 0) {
            fault.times -= 1;
            throw injected(fault.error);
          }
          return handler(input);
        };
      },
    },
  });
  ({ deps, runner } = env);
  gen1 = generateKeyPair();
  await deps.keys.add(gen1);
  await deps.keys.add(generateKeyPair());
  await env.register(device());
});
afterAll(async () => {
  await env?.stop();
});

async function runWith(target: Target): Promise<RunRecord> {
  plan = new Map();
  const opener = OPENERS[target.workflow][target.state];
  if (opener) plan.set(opener[0], { ...opener[1] });
  plan.set(
    target.state,
    target.kind === "retry"
      ? { error: target.error, times: 1 }
      : { error: target.error, times: 99 },
  );
  // The MarkHealthy path needs a device already on the current generation; the rest a conflict.
  const current = (await deps.keys.loadGenerations())[0]?.key as KeyPair;
  // A rotation installs generation N+1 over the current one.
  const holds = target.state === "MarkHealthy" || target.workflow === "rotate" ? current : gen1;
  await device().resetHome(`${holds.authorizedKey}\n`);
  const id = `rc-${++counter}`;
  // ForgetUnused runs only when another run holds the device.
  const heldByAnother = target.state === "ForgetUnused";
  if (heldByAnother) await deps.devices.acquireLease(device().id, "another-run", 60_000);
  let input: Record<string, unknown>;
  if (target.workflow === "reconnect") {
    input = { deviceId: device().id, eventId: id, trigger: "device", attempt: 1 };
  } else if (target.workflow === "resolve") {
    const secretRef = await deps.secrets.put(`resolve/${id}`, password, { ttlSeconds: 300 });
    input = {
      deviceId: device().id,
      mode: "space-key",
      adminUser: device().user,
      loginUser: null,
      secretRef,
      passphraseRef: null,
      adopt: null,
    };
  } else {
    input = { algorithm: "ed25519", canary: 0, toleratedFailurePercentage: 0 };
  }
  const { done } = await runner.start(target.workflow, id, input);
  try {
    return await done;
  } finally {
    if (heldByAnother) await deps.devices.releaseLease(device().id, "another-run");
  }
}

const allTargets = WORKFLOWS.flatMap((w) =>
  targetsOf(w, definitionOf(w).States as Record<string, AslState>),
);

describe.each(WORKFLOWS)("%s.asl.json", (workflow) => {
  const targets = allTargets.filter((t) => t.workflow === workflow);

  it("has Retry and Catch paths to exercise", () => {
    expect(targets.length).toBeGreaterThan(10);
  });

  it.each(
    targets.map(
      (t) => [`${t.state}: ${t.kind} on ${t.error}${t.next ? ` → ${t.next}` : ""}`, t] as const,
    ),
  )("%s", async (_label, target) => {
    const run = await runWith(target);
    const steps = run.steps.filter((s) => s.name === target.state);
    expect(
      steps.length,
      `${target.state} never ran: ${run.steps.map((s) => s.name).join(" → ")}`,
    ).toBeGreaterThan(0);
    if (target.kind === "retry") {
      expect(steps.some((s) => (s.retries ?? 0) >= 1)).toBe(true);
    } else {
      expect(
        steps.some((s) => s.status === "CAUGHT" && s.caughtBy === target.next),
        JSON.stringify(run.steps),
      ).toBe(true);
    }
  });
});
