import { afterAll, beforeAll, expect, it } from "vitest";
import { ManifestNotFoundError, type ManifestRef } from "../../../lib/workflows/manifests.ts";
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

it("a rotation's manifests are dropped once it ends: the local runtime keeps no fleet list per rotation", async () => {
  const run = await (await env.runner.start("rotate", "rotate-forgotten", { algorithm: "ed25519" }))
    .done;
  expect(run.status, `${run.error}: ${run.cause}`).toBe("SUCCEEDED");
  const { plan } = run.output as { plan: { canary: ManifestRef; fleet: ManifestRef } };
  for (const ref of [plan.canary, plan.fleet]) {
    await expect(env.deps.manifests?.read(ref)).rejects.toThrow(ManifestNotFoundError);
  }
});
