/**
 * The console's build, made when `keyheal local start` needs it: after `npm ci` alone there is
 * no `web/dist`, and the runtime would serve "The console is not built". The build runs once,
 * and again only when a source under `web/` is newer than the build, so a checkout that moved
 * on does not serve an old console.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

export interface ConsoleBuildOptions {
  /** The console's sources: `web/` with `vite.config.ts`, `index.html` and `src/`. */
  webDir: string;
  /** Where the runtime serves it from: `web/dist`. */
  outDir: string;
  /** The Vite command line entry (`node_modules/vite/bin/vite.js`); absent after a production install. */
  viteBin: string;
  /** Progress and problems, one line each. */
  log: (line: string) => void;
}

export type ConsoleBuildOutcome = "fresh" | "built" | "unavailable" | "failed";

/** The newest modification time of the console's sources, in ms. */
async function newestSource(webDir: string, outDir: string): Promise<number> {
  let newest = 0;
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (path === outDir || entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) newest = Math.max(newest, (await stat(path)).mtimeMs);
    }
  };
  await visit(webDir);
  return newest;
}

/** Whether `outDir` holds a build at least as new as every source. */
export async function consoleIsFresh(webDir: string, outDir: string): Promise<boolean> {
  const built = await stat(join(outDir, "index.html")).catch(() => undefined);
  if (!built) return false;
  return built.mtimeMs >= (await newestSource(webDir, outDir));
}

/**
 * Builds the console into `outDir` unless it is fresh. The build goes to a temporary directory
 * beside it and is then swapped in, so a runtime already serving the old one never serves half a
 * build, and two starts at once each leave a whole one. Never throws: without the console the
 * runtime and its API still work, so a missing Vite or a failed build is logged and start goes on.
 */
export async function ensureConsoleBuilt(
  options: ConsoleBuildOptions,
): Promise<ConsoleBuildOutcome> {
  const { webDir, outDir, viteBin, log } = options;
  if (await consoleIsFresh(webDir, outDir)) return "fresh";
  if (!existsSync(viteBin)) {
    log(
      "The console is not built and Vite is not installed: run `npm ci` (with dev dependencies), or `npm run build:web`. The API works without it.",
    );
    return "unavailable";
  }
  const started = Date.now();
  log(`Building the console into ${relative(process.cwd(), outDir) || outDir} (once) …`);
  const staging = await mkdtemp(join(dirname(outDir), ".dist-"));
  try {
    const { code, output } = await runVite(viteBin, webDir, staging);
    if (code !== 0) {
      log(`The console build failed (vite exit ${code}); the API works without it:\n${output}`);
      return "failed";
    }
    const old = `${staging}-old`;
    await rename(outDir, old).catch(() => undefined);
    await rename(staging, outDir);
    await rm(old, { recursive: true, force: true });
    log(`Console built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    return "built";
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `vite build` of `webDir` into `outDir` in a child process, so its memory goes when it ends. */
function runVite(
  viteBin: string,
  webDir: string,
  outDir: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [viteBin, "build", webDir, "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", (error) => resolve({ code: -1, output: error.message }));
    child.on("close", (code) => {
      // The last lines are where Vite says what went wrong.
      const output = Buffer.concat(chunks).toString("utf8").trim().split("\n").slice(-20);
      resolve({ code, output: output.join("\n") });
    });
  });
}
