/**
 * One keyheal rotation of N devices under `node --cpu-prof`, the profile kept for a closer look:
 *
 *   node bench/rotate/profile-once.ts 100 /tmp/profile-dir
 *
 * Prints the summary over the rotation's window and the window itself (monotonic µs).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { startBenchFleet } from "./fleet.ts";
import { rotateKeyheal } from "./methods.ts";
import { summariseProfiles } from "./profile.ts";

const size = Math.min(Math.max(Number(process.argv[2] ?? 50) || 50, 1), 250);
const dir = resolve(process.argv[3] ?? join(tmpdir(), `keyheal-profile-${Date.now()}`));
const work = await mkdtemp(join(tmpdir(), "keyheal-bench-"));
try {
  const fleet = await startBenchFleet(size, work);
  try {
    const old = generateKeyPair({ comment: "old" });
    await fleet.reset(old);
    const result = await rotateKeyheal(fleet, work, old, { cpuProfileDir: dir });
    const problems = await fleet.check(old, result.newFingerprint);
    const counts = await fleet.count();
    console.log(
      JSON.stringify({
        size,
        wallMs: Math.round(result.wallMs),
        cpuPerDeviceMs: result.cpuMs / size,
        runtimePeakRssMb: Math.round(result.runtimePeakRssKb / 1024),
        handshakes: counts.handshakes / size,
        commands: counts.commands / size,
        problems: problems.slice(0, 3),
        failures: result.failures,
        window: result.window,
        profileDir: dir,
      }),
    );
    await writeFile(join(dir, "window.json"), JSON.stringify(result.window));
    for (const failure of result.failures) console.log(`recorded failure: ${failure}`);
    const summary = await summariseProfiles(dir, result.window, 30);
    console.log(`busy ${Math.round(summary.busyMs)} ms`);
    for (const p of summary.places)
      console.log(`${p.place.padEnd(40)} ${Math.round(p.ms)} ms ${(p.share * 100).toFixed(1)} %`);
    for (const f of summary.functions)
      console.log(
        `${f.name.slice(0, 40).padEnd(40)} ${f.where.slice(-60).padEnd(60)} ${Math.round(f.ms)} ms ${(f.share * 100).toFixed(1)} %`,
      );
  } finally {
    await fleet.destroy();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
