#!/usr/bin/env -S node --max-semi-space-size=16
/**
 * The `keyheal` CLI entry (run through bin/keyheal, which picks the project's pinned Node). The
 * one place that touches the process: argv, environment, streams and the exit code.
 */
import { mkdirSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Node keeps what it compiled of keyheal's modules on disk, checked against each file's contents,
 * so a command after the first starts in about half the time (bench/RESULTS.md, "The CLI's
 * start"). The directory is the user's own, never a shared temporary one: compiled code is code.
 * bin/keyheal sets NODE_COMPILE_CACHE to the same directory, which makes this a no-op and caches
 * this file too. The directory is made a level at a time first: Node's own recursive mkdir never
 * returns under some paths (`/proc`), and without a directory there is no cache, only a slower
 * start.
 */
function cacheCompiledModules(): void {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const dir = join(base, "keyheal", "compile-cache");
  try {
    for (const level of [base, dirname(dir), dir]) {
      try {
        mkdirSync(level, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") return;
      }
    }
    enableCompileCache(dir);
  } catch {
    // No cache: the command runs as it would have.
  }
}

cacheCompiledModules();
const { cliEnvFrom } = await import("../lib/cli/config.ts");
const { main } = await import("../lib/cli/main.ts");

// `keyheal failures list | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: cliEnvFrom(process.env),
  now: () => new Date(),
});
