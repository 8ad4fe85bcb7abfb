import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

let env: WorkflowEnv;
beforeAll(async () => {
  env = await startWorkflowEnv({ name: "empty", devices: 0 });
});
afterAll(async () => env?.stop());

it("a rotation with no registered device makes the first generation and succeeds", async () => {
  const run = await (await env.runner.start("rotate", "rotate-empty", { algorithm: "ed25519" }))
    .done;
  expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
  expect(run.output).toMatchObject({
    key: { generation: 1 },
    plan: { total: 0, canary: { count: 0 }, fleet: { count: 0 } },
  });
  expect(run.steps.map((s) => s.name)).not.toContain("InstallDevices");
  expect((await env.deps.keys.current())?.status).toBe("CURRENT");
});
