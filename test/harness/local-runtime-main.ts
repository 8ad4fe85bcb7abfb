/**
 * The local runtime as `keyheal local start` runs it, for tests that start it as a child
 * process: `node test/harness/local-runtime-main.ts --data-dir D [--inventory F] …`.
 */
import { runLocalRuntimeMain } from "../../lib/local/main.ts";

// The entry point is the edge: it hands the process environment in.
process.exitCode = await runLocalRuntimeMain(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
