/**
 * The local runtime as `keyheal local start` runs it, with short SSH timeouts so that a device
 * that stalls fails in seconds: `node test/reliability/runtime-main.ts --data-dir D`.
 * `--recheck-pause MS` shortens the reconnect workflow's RecheckPause (30 s in the ASL file) for
 * suites that send many events; the recheck itself still runs. `--kill-after STATE` kills the
 * runtime with SIGKILL as soon as the Task state of that name has done its work, before the
 * workflow moves on (the first time only). `--kill-during STATE:MS` kills it MS milliseconds
 * after the Task state of that name starts, with its work in flight (the first time only).
 */
import { parseArgs } from "node:util";
import { waitForStopSignal } from "../../lib/http/stop-signal.ts";
import { startLocalRuntime } from "../../lib/local/runtime.ts";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    "probe-interval": { type: "string" },
    "recheck-pause": { type: "string" },
    "kill-after": { type: "string" },
    "kill-during": { type: "string" },
  },
});
const recheckPause = values["recheck-pause"];
const killAfter = values["kill-after"];
const [killDuring, killDelayMs] = (values["kill-during"] ?? "").split(":");
const runtime = await startLocalRuntime({
  dataDir: values["data-dir"] ?? ".keyheal",
  probeIntervalMs: 0,
  sshTimeouts: { connectMs: 2000, handshakeMs: 3000, commandMs: 3000 },
  ...(recheckPause === undefined
    ? {}
    : { pauses: { waitTimeOverrides: { RecheckPause: Number(recheckPause) } } }),
  wrapTask: ({ stateName }, handler) => {
    if (stateName === killAfter) {
      return async (input) => {
        const output = await handler(input);
        process.kill(process.pid, "SIGKILL");
        return output;
      };
    }
    if (stateName === killDuring) {
      return (input) => {
        setTimeout(() => process.kill(process.pid, "SIGKILL"), Number(killDelayMs) || 0);
        return handler(input);
      };
    }
    return handler;
  },
});
process.stdout.write(`keyheal local runtime ready (pid ${process.pid})\n`);
await waitForStopSignal("keyheal local runtime");
await runtime.stop();
