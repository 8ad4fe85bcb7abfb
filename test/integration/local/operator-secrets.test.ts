import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDevices } from "../../../lib/api/handlers/resolve-devices.ts";
import type { ApiContext } from "../../../lib/api/types.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { createLocalDeps } from "../../../lib/local/local-deps.ts";
import { SecretSweeper } from "../../../lib/local/secret-sweeper.ts";
import { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import { FileSecretStore } from "../../../lib/store/file-secret-store.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import type { WorkflowStarter } from "../../../lib/workflows/starters.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";
import { eventually, startRuntimeProcess } from "../../harness/local-runtime.ts";

const PASSWORD = "operator-password-10.6";
let root: string;
let dynamo: DynamoHarness;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let secretsDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "keyheal-operator-secrets-"));
  dynamo = await startDynamo();
  const local = createLocalDeps({ client: dynamo.client, tables: dynamo.tables, dataDir: root });
  deps = local.deps;
  secretsDir = local.secrets.directory;
  runner = new LocalWorkflowRunner({ deps, runs: local.runs });
  await deps.devices.register({
    id: "leased-1",
    // Never dialled: every test here ends before a connection.
    host: "127.0.0.2",
    port: 1,
    adminUser: "admin",
  });
});

afterAll(async () => {
  await dynamo?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Every file in the secret store's directory. */
const secretFiles = (dir = secretsDir) => readdir(dir).catch(() => [] as string[]);

describe("issue 10.6: operator secrets never outlive their resolve", () => {
  it("issue 10.6: a resolve whose run cannot start deletes the password and key it stored", async () => {
    const failing: WorkflowStarter = {
      start: async () => {
        throw new Error("injected: the workflow service is unavailable");
      },
    };
    const context = { deps, starter: failing } as Pick<ApiContext, "deps" | "starter">;
    for (const body of [
      {
        mode: "space-key",
        password: PASSWORD,
        devices: [{ id: "leased-1", adminUser: "admin" }],
      },
      {
        mode: "custom-key",
        privateKey: generateKeyPair().privateKey,
        devices: [{ id: "leased-1", adminUser: "admin" }],
      },
    ]) {
      await expect(
        resolveDevices(context as ApiContext, { body, query: {}, params: {} }),
      ).rejects.toThrow("injected");
      expect(await secretFiles()).toEqual([]);
    }
  });

  it("issue 10.6: a resolve that finds the device held by another run forgets its secrets at once", async () => {
    expect(await deps.devices.acquireLease("leased-1", "another-run", 60_000)).toBe(true);
    try {
      const secretRef = await deps.secrets.put("resolve/held/credential", PASSWORD, {
        ttlSeconds: 900,
      });
      const { done } = await runner.start("resolve", "resolve-held", {
        deviceId: "leased-1",
        mode: "space-key",
        adminUser: "admin",
        loginUser: null,
        secretRef,
        passphraseRef: null,
        adopt: null,
      });
      const run = await done;
      expect(run.status).toBe("SUCCEEDED");
      expect(run.steps.map((step) => step.name)).toContain("ForgetUnused");
      await expect(deps.secrets.get(secretRef)).rejects.toThrow();
      expect(await secretFiles()).toEqual([]);
    } finally {
      await deps.devices.releaseLease("leased-1", "another-run");
    }
  });

  it("issue 10.6: the schedule deletes an expired operator secret nobody reads; lasting secrets stay", async () => {
    const directory = join(root, "sweep");
    let now = Date.parse("2026-01-01T00:00:00Z");
    const store = new FileSecretStore({ directory, clock: () => now });
    await store.put("resolve/r1/credential", PASSWORD, { ttlSeconds: 900 });
    await store.put("platform-key/1", "lasting");
    const logged: string[] = [];
    const sweeper = new SecretSweeper({
      store,
      intervalMs: 20,
      log: { info: (message: string) => logged.push(message), warn: () => {} },
    });
    sweeper.start();
    try {
      // Still within its life: kept, sweep after sweep.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await secretFiles(directory)).sort()).toHaveLength(2);
      now += 901_000;
      await eventually("the expired secret's file to go", async () =>
        (await secretFiles(directory)).length === 1 ? true : undefined,
      );
      expect(await store.get("platform-key/1")).toBe("lasting");
      expect(logged).toContain("expired operator secrets deleted");
    } finally {
      await sweeper.stop();
    }
  });

  it("issue 10.6: a runtime killed mid-resolve leaves no operator secret past its next start", async () => {
    const dataDir = join(root, "runtime");
    const runtime = await startRuntimeProcess({ dataDir, probeInterval: "0" });
    // What a resolve had stored when the runtime was killed: the password, within its life, and
    // a put cut off before its rename.
    const store = new FileSecretStore({ directory: join(dataDir, "secrets") });
    await store.put("resolve/resolve-dev-1-01J/credential", PASSWORD, { ttlSeconds: 900 });
    await store.put("keep/lasting", "lasting");
    await writeFile(join(dataDir, "secrets", ".0b1c2d3e.tmp"), PASSWORD, { mode: 0o600 });
    expect((await runtime.stop("SIGKILL")).signal).toBe("SIGKILL");

    const next = await startRuntimeProcess({ dataDir, probeInterval: "0" });
    try {
      expect(await secretFiles(join(dataDir, "secrets"))).toEqual(["keep%2Flasting.secret"]);
    } finally {
      expect((await next.stop()).code).toBe(0);
    }
  });
});
