import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRuntimeProcess, startRuntimeProcess } from "../../harness/local-runtime.ts";

const FAULTY = fileURLToPath(new URL("../../harness/faulty-runtime-main.ts", import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-runtime-process-"));
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe("issue 10.8: the runtime keeps its token off stdout", () => {
  it("issue 10.8: the runtime prints where its token file is and how to open the console, never the token", async () => {
    const runtime = await startRuntimeProcess({ dataDir, probeInterval: "0" });
    const output = runtime.output();
    const exit = await runtime.stop();
    expect(exit.code).toBe(0);
    expect(runtime.token.length).toBeGreaterThan(30);
    expect(exit.stdout + exit.stderr).not.toContain(runtime.token);
    expect(output).not.toContain("#token=");
    expect(exit.stdout).toContain(`token   in ${join(dataDir, "api-token")} (mode 0600)`);
    expect(exit.stdout).toContain(`keyheal console --data-dir ${dataDir}`);
  });
});

describe("issue 10.9: an error nothing caught drains the runtime and exits non-zero", () => {
  for (const kind of ["exception", "rejection"] as const) {
    it(`issue 10.9: an uncaught ${kind} is logged, the runtime drains, releases its lock and exits 3`, async () => {
      const exit = await runRuntimeProcess({ dataDir, probeInterval: "0", main: [FAULTY, kind] });
      expect(exit.code, exit.stderr).toBe(3);
      expect(exit.stderr).toContain("unexpected error, finishing runs in flight and stopping");
      expect(exit.stderr).toContain("injected fault");
      // Drained like a SIGTERM: no lock or discovery file left behind.
      for (const file of ["runtime.lock", "api-url", "api-token"]) {
        expect(await exists(join(dataDir, file)), file).toBe(false);
      }
    });
  }
});
