/**
 * The local runtime as `keyheal local start` runs it, with short SSH timeouts so that a device
 * that stalls fails in seconds: `node test/reliability/runtime-main.ts --data-dir D`.
 */
import { parseArgs } from "node:util";
import { startLocalRuntime } from "../../lib/local/runtime.ts";
import { waitForStopSignal } from "../../lib/local/stop-signal.ts";

const { values } = parseArgs({
  options: { "data-dir": { type: "string" }, "probe-interval": { type: "string" } },
});
const runtime = await startLocalRuntime({
  dataDir: values["data-dir"] ?? ".keyheal",
  probeIntervalMs: 0,
  sshTimeouts: { connectMs: 2000, handshakeMs: 3000, commandMs: 3000 },
});
process.stdout.write(`keyheal local runtime ready (pid ${process.pid})\n`);
await waitForStopSignal("keyheal local runtime");
await runtime.stop();
