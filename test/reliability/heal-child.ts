/**
 * One heal in a process of its own, killed with SIGKILL by itself when the heal reaches a step:
 * the fault matrix's "keyheal killed" column (`matrix.test.ts`). Reads its heal options as JSON
 * on stdin (`{ target, generations, at }`) so no key is written anywhere; prints `healed` if the
 * step never came.
 */
import { text } from "node:stream/consumers";
import { importPrivateKey } from "../../lib/keys/index.ts";
import type { DeviceTarget } from "../../lib/replace/heal-device.ts";
import { type Generation, healDevice, type ReplaceStep } from "../../lib/replace/heal-device.ts";

const { target, generations, at } = JSON.parse(await text(process.stdin)) as {
  target: DeviceTarget;
  generations: Array<{ generation: number; privateKey: string; comment: string }>;
  at: ReplaceStep;
};
await healDevice({
  device: target,
  generations: generations.map(
    (g): Generation => ({
      generation: g.generation,
      key: importPrivateKey(g.privateKey, { comment: g.comment }),
    }),
  ),
  timeouts: { handshakeMs: 3000, commandMs: 3000 },
  onStep: async (reached) => {
    if (reached === at) process.kill(process.pid, "SIGKILL");
  },
});
process.stdout.write("healed\n");
