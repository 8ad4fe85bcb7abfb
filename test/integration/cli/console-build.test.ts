/**
 * Issue 14.8: `keyheal local start` after `npm ci` alone serves a working console. The test runs
 * the CLI from a copy of the checkout without `web/dist` (node_modules linked in, as `npm ci`
 * leaves it), so the build it makes is its own and no other test's console changes under it.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleIsFresh, ensureConsoleBuilt } from "../../../lib/cli/console-build.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
let checkout: string;

beforeAll(async () => {
  checkout = await mkdtemp(join(tmpdir(), "keyheal-checkout-"));
  for (const part of ["bin", "lib", "package.json"]) {
    await cp(join(ROOT, part), join(checkout, part), { recursive: true });
  }
  await mkdir(join(checkout, "web"));
  for (const part of ["index.html", "vite.config.ts", "tsconfig.json", "src"]) {
    await cp(join(ROOT, "web", part), join(checkout, "web", part), { recursive: true });
  }
  await symlink(join(ROOT, "node_modules"), join(checkout, "node_modules"));
});

afterAll(async () => {
  await rm(checkout, { recursive: true, force: true });
});

/** Starts `bin/keyheal local start` in the copy; resolves once it is ready, with its API URL. */
async function startLocal(dataDir: string) {
  const child = spawn(join(checkout, "bin", "keyheal"), ["local", "start", "--data-dir", dataDir], {
    cwd: checkout,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: checkout },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const deadline = Date.now() + 150_000;
  while (!stdout.includes("keyheal local runtime ready")) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`local start did not become ready:\n${stdout}\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = (await readFile(join(dataDir, "api-url"), "utf8")).trim();
  return {
    url,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("the console after npm ci alone", () => {
  it("issue 14.8: local start builds the missing console, then serves it", async () => {
    const dataDir = join(checkout, ".keyheal");
    const runtime = await startLocal(dataDir);
    try {
      expect(runtime.stderr()).toContain("Building the console");
      expect(runtime.stderr()).toMatch(/Console built in \d+\.\d s\./);
      const page = await fetch(`${runtime.url}/console/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toContain("not built");
      const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${runtime.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toContain("javascript");
    } finally {
      expect(await runtime.stop()).toBe(0);
    }
  }, 180_000);

  it("issue 14.8: a build newer than its sources is kept; a source edited after it is rebuilt", async () => {
    const options = {
      webDir: join(checkout, "web"),
      outDir: join(checkout, "web", "dist"),
      viteBin: join(checkout, "node_modules", "vite", "bin", "vite.js"),
      log: () => undefined,
    };
    expect(await consoleIsFresh(options.webDir, options.outDir)).toBe(true);
    expect(await ensureConsoleBuilt(options)).toBe("fresh");
    const future = new Date(Date.now() + 60_000);
    await utimes(join(checkout, "web", "src", "main.tsx"), future, future);
    expect(await consoleIsFresh(options.webDir, options.outDir)).toBe(false);
    // Without Vite (a production install) start goes on, saying what to do.
    const lines: string[] = [];
    const outcome = await ensureConsoleBuilt({
      ...options,
      viteBin: join(checkout, "no-vite.js"),
      log: (line) => lines.push(line),
    });
    expect(outcome).toBe("unavailable");
    expect(lines.join("\n")).toContain("run `npm ci`");
  });
});
