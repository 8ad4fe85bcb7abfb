#!/usr/bin/env -S node --max-semi-space-size=16
/**
 * The `keyheal` CLI entry (run through bin/keyheal, which picks the project's pinned Node). The
 * one place that touches the process: argv, environment, streams and the exit code.
 */
import { cliEnvFrom } from "../lib/cli/config.ts";
import { main } from "../lib/cli/main.ts";

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
