/**
 * The floor keyheal is measured against: a minimal rotation written straight on ssh2, with no
 * store, no workflow and no failure handling. Concurrency 32; per device {@link rawHeal}.
 *
 *   node bench/rotate/raw-ssh2.ts JOB.json
 */
import { readFile } from "node:fs/promises";
import { type RawDevice, type RawKeys, rawHeal } from "./raw-heal.ts";

const CONCURRENCY = 32;
const job = JSON.parse(await readFile(process.argv[2] ?? "", "utf8")) as RawKeys & {
  devices: RawDevice[];
};

let failed = 0;
const queue = [...job.devices];
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      await rawHeal(d, job).catch((error: Error) => {
        failed++;
        console.error(error.message);
      });
    }
  }),
);
process.exitCode = failed === 0 ? 0 : 1;
