/**
 * The local runtime as `keyheal local start` runs it, plus one error nothing catches once it is
 * ready: `node test/harness/faulty-runtime-main.ts exception|rejection --data-dir D …`.
 */
import { runLocalRuntimeMain } from "../../lib/local/main.ts";

const [kind, ...argv] = process.argv.slice(2);

function injectFault() {
  if (kind === "exception") throw new Error("injected fault: thrown from a timer");
  void Promise.reject(new Error("injected fault: a promise nobody awaits"));
}

process.exitCode = await runLocalRuntimeMain(argv, {
  out: (text) => {
    process.stdout.write(text);
    if (text.includes("keyheal local runtime ready")) setTimeout(injectFault, 200);
  },
  err: (text) => process.stderr.write(text),
  env: process.env,
});
