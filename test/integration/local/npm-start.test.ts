import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

/** `npm start` tells the whole story and, when nobody is at the terminal, ends by itself. */
describe.each(["sshd", "simulated"])("npm start with %s devices", (kind) => {
  it("imports, rotates with devices down, heals them on reconnect and shows three failures", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyheal-start-"));
    try {
      const { stdout } = await run(process.execPath, ["bin/demo.ts"], {
        env: {
          ...process.env,
          CI: "true",
          KEYHEAL_DATA_DIR: join(dir, ".keyheal"),
          KEYHEAL_DEMO_DEVICES: kind,
          POWERTOOLS_METRICS_DISABLED: "true",
          POWERTOOLS_LOG_LEVEL: "ERROR",
        },
        timeout: 120_000,
      });
      for (const step of ["✓ 1. import", "✓ 2. rotate", "✓ 3. bring them back", "✓ 4. inject"]) {
        expect(stdout).toContain(step);
      }
      expect(stdout).toMatch(/demo-4\s+KEY_BASED\s+2/);
      for (const cause of ["AUTH_REJECTED", "CONNECTION_REFUSED", "HOST_KEY_MISMATCH"]) {
        expect(stdout).toContain(cause);
      }
      expect(stdout).not.toContain("PRIVATE KEY");
      // issue 10.8: the token stays in its file; the demo points to `keyheal console` instead.
      expect(stdout).not.toContain("#token=");
      expect(stdout).toContain("bin/keyheal console --data-dir");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
