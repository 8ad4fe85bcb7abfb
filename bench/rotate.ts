/**
 * Fleet rotation bench: on one fleet of N real sshd devices (127.0.0.1), rotates the key with
 * keyheal (`keyheal keys rotate --wait` against a local runtime), a raw ssh2 script, Ansible
 * `authorized_key` and `xargs -P32 ssh`, checks every device after every run, then measures
 * reconnect → KEY_BASED latency and the failure store over 100,000 records. Not part of `npm test`.
 *
 *   npm run bench:rotate                          # N = 50 and 200, 3 runs each
 *   RUNS=3,1 PARTS=rotate,reconnect npm run bench:rotate   # 3 runs at 50, 1 at 200; no store
 *   SIZES=20 RUNS=1 METHODS=keyheal,raw npm run bench:rotate
 *   PROFILE=1 npm run bench:rotate                # also a CPU profile of the runtime's rotation
 *
 * A run of all four methods writes the rotation (and reconnect) figures into bench/RESULTS.md
 * between the `rotate:begin` and `rotate:end` markers; the store part writes between
 * `rotate-store:begin` and `rotate-store:end`. `bench/rotate/profile-once.ts` keeps a profile.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { generateKeyPair } from "../lib/keys/index.ts";
import type { KeyPair } from "../lib/keys/types.ts";
import { startBenchFleet } from "./rotate/fleet.ts";
import {
  type Measured,
  rotateAnsible,
  rotateKeyheal,
  rotateRaw,
  rotateXargs,
} from "./rotate/methods.ts";
import { summariseProfiles } from "./rotate/profile.ts";
import { measureReconnect } from "./rotate/reconnect.ts";
import { measureFailureStore } from "./rotate/store-queries.ts";

const METHODS = {
  keyheal: "keyheal keys rotate --wait",
  raw: "raw ssh2 script",
  ansible: "Ansible authorized_key",
  xargs: "xargs -P32 ssh",
} as const;
type Method = keyof typeof METHODS;

const bounded = (value: string | undefined, fallback: number, max: number) =>
  Math.min(Math.max(Number(value ?? fallback) || fallback, 1), max);
const SIZES = (process.env.SIZES ?? "50,200").split(",").map((n) => bounded(n, 50, 250));
/** Runs per size: one number for every size, or one per size (`RUNS=3,1` with `SIZES=50,200`). */
const RUNS = (process.env.RUNS ?? "3").split(",").map((n) => bounded(n, 3, 5));
const runsAt = (index: number) => RUNS[Math.min(index, RUNS.length - 1)] ?? 3;
const RECORDS = bounded(process.env.RECORDS, 100_000, 200_000);
const RECONNECTS = bounded(process.env.RECONNECTS, 20, 100);
const CHOSEN = (process.env.METHODS ?? Object.keys(METHODS).join(","))
  .split(",")
  .filter((m): m is Method => m in METHODS);
const PROFILE = process.env.PROFILE === "1";
/** keyheal's `--concurrency` (default: keyheal's own default, which is what users get). */
const CONCURRENCY =
  process.env.CONCURRENCY === undefined ? undefined : bounded(process.env.CONCURRENCY, 8, 256);
/** Which parts to run: `rotate`, `reconnect`, `store` (default all three). */
const PARTS = new Set((process.env.PARTS ?? "rotate,reconnect,store").split(","));
/** Delete-all stops after this many seconds (0: no bound) and reports how far it got. */
const DELETE_BUDGET_S = Math.min(Math.max(Number(process.env.DELETE_BUDGET_S ?? 0) || 0, 0), 3600);
const RESULTS = resolve(import.meta.dirname, "RESULTS.md");

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "—");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

interface Row {
  method: Method;
  size: number;
  wall: number[];
  cpuPerDevice: number[];
  peakRssKb: number[];
  runtimePeakRssKb: number[];
  handshakes: number;
  commands: number;
  problems: string[];
}

const rows: Row[] = [];
const work = await mkdtemp(join(tmpdir(), "keyheal-bench-"));
const started = new Date();
// The machine may be shared: its one-minute load average is sampled throughout and reported
// beside the figures, since it decides how far absolute times (not ratios) can be trusted.
const loads: number[] = [loadavg()[0] ?? 0];
const sampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 5_000);
console.log(
  `rotation bench: sizes ${SIZES.join(", ")}, ${RUNS.join(", ")} runs, methods ${CHOSEN.join(", ")}, in ${work}`,
);
let profileText = "";

try {
  for (const [sizeIndex, size] of (PARTS.has("rotate") ? SIZES : []).entries()) {
    const fleet = await startBenchFleet(size, work);
    try {
      const bySize = new Map<Method, Row>();
      for (const method of CHOSEN) {
        const row: Row = {
          method,
          size,
          wall: [],
          cpuPerDevice: [],
          peakRssKb: [],
          runtimePeakRssKb: [],
          handshakes: 0,
          commands: 0,
          problems: [],
        };
        bySize.set(method, row);
        rows.push(row);
      }
      // Methods take turns within each round, so a drift of the machine's speed hits them alike.
      for (let run = 0; run < runsAt(sizeIndex); run++) {
        for (const method of CHOSEN) {
          const row = bySize.get(method) as Row;
          const old = generateKeyPair({ comment: "old" });
          await fleet.reset(old);
          const result = await rotateWith(method, fleet, old);
          const counts = await fleet.count();
          const problems = await fleet.check(old, result.newFingerprint);
          const recorded = "failures" in result ? (result.failures as string[]) : [];
          if (recorded.length > 0) {
            console.log(`  keyheal recorded ${recorded.length} failures: ${recorded.join("; ")}`);
            if (problems.length > 0) problems[0] += ` (keyheal's record: ${recorded[0]})`;
          }
          row.wall.push(result.wallMs);
          row.cpuPerDevice.push(result.cpuMs / size);
          row.peakRssKb.push(result.peakRssKb);
          if ("runtimePeakRssKb" in result)
            row.runtimePeakRssKb.push(result.runtimePeakRssKb as number);
          row.handshakes = counts.handshakes / size;
          row.commands = counts.commands / size;
          row.problems.push(...problems.slice(0, 5));
          console.log(
            `N=${size} run ${run + 1} ${method}: ${(result.wallMs / 1000).toFixed(1)} s, ${(result.cpuMs / size).toFixed(1)} ms CPU/device, ${Math.round(result.peakRssKb / 1024)} MB, ${row.handshakes} handshakes and ${row.commands} commands per device, ${problems.length === 0 ? "checked: ok" : `${problems.length} problems: ${problems[0]}`}`,
          );
        }
      }
      if (PROFILE && size === Math.max(...SIZES)) {
        const dir = join(work, "profile");
        const old = generateKeyPair({ comment: "old" });
        await fleet.reset(old);
        const { window } = await rotateKeyheal(fleet, work, old, {
          cpuProfileDir: dir,
          concurrency: CONCURRENCY,
        });
        const summary = await summariseProfiles(dir, window);
        profileText = renderProfile(summary, size);
        console.log(profileText);
      }
    } finally {
      await fleet.destroy();
    }
  }

  console.log("reconnect → KEY_BASED …");
  const reconnect = PARTS.has("reconnect") ? await measureReconnect(RECONNECTS, work) : undefined;
  console.log(`failure store over ${RECORDS} records …`);
  const store = PARTS.has("store")
    ? await measureFailureStore(RECORDS, DELETE_BUDGET_S * 1000)
    : undefined;

  clearInterval(sampler);
  const rotation = render(rows, reconnect, profileText);
  const storeText = store ? renderStore(store) : "";
  console.log(`\n${rotation}\n\n${storeText}`);
  // Each part rewrites its own block; a run of other parts leaves it as it is.
  if (PARTS.has("rotate") && CHOSEN.length === Object.keys(METHODS).length)
    await writeResults("rotate", rotation);
  if (store) await writeResults("rotate-store", storeText);
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}

async function rotateWith(
  method: Method,
  fleet: Awaited<ReturnType<typeof startBenchFleet>>,
  old: KeyPair,
): Promise<Measured> {
  const next = generateKeyPair({ comment: "new" });
  switch (method) {
    case "keyheal":
      return rotateKeyheal(fleet, work, old, { concurrency: CONCURRENCY });
    case "raw":
      return rotateRaw(fleet, work, old, next);
    case "ansible":
      return rotateAnsible(fleet, work, old, next);
    case "xargs":
      return rotateXargs(fleet, work, old, next);
  }
}

function renderProfile(
  summary: Awaited<ReturnType<typeof summariseProfiles>>,
  size: number,
): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return [
    `CPU profile of the runtime (\`node --cpu-prof\`) over one rotation of ${size} devices: ${Math.round(summary.busyMs)} ms busy.`,
    "",
    "| where | self time | share |",
    "| --- | --- | --- |",
    ...summary.places
      .slice(0, 10)
      .map((p) => `| ${p.place} | ${Math.round(p.ms)} ms | ${pct(p.share)} |`),
    "",
    "| function | where | self time | share |",
    "| --- | --- | --- | --- |",
    ...summary.functions
      .slice(0, 12)
      .map((f) => `| \`${f.name}\` | ${f.where} | ${Math.round(f.ms)} ms | ${pct(f.share)} |`),
  ].join("\n");
}

function loadText(): string {
  const sorted = [...loads].sort((a, b) => a - b);
  return `one-minute load average ${f1(sorted[0] ?? Number.NaN)} to ${f1(sorted.at(-1) ?? Number.NaN)} (median ${f1(median(sorted))}) during the run`;
}

function render(
  all: Row[],
  reconnect: Awaited<ReturnType<typeof measureReconnect>> | undefined,
  profile: string,
): string {
  const lines = [
    `Measured ${started.toISOString().slice(0, 16).replace("T", " ")} UTC by \`${commandLine()}\` on ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${loadText()}. One fleet of N real OpenSSH sshd devices on 127.0.0.1 (LogLevel DEBUG1), the same for every method; medians of ${SIZES.map((size, i) => `${runsAt(i)} run${runsAt(i) > 1 ? "s" : ""} at N = ${size}`).join(" and ")}, the methods taking turns in each round. After every run each device is checked: the new key once in the file, the old key gone and refused by sshd, the other lines byte for byte. Controller CPU is user + system time of every process the method ran (for keyheal: the runtime's CPU during the rotation plus the CLI's), per device. Handshakes (\`Accepted publickey\`) and commands (exec/shell requests) per device are counted from sshd's own log.`,
    "",
    "| N | method | wall (median) | vs raw ssh2 | controller CPU / device | vs raw | peak RSS | handshakes / commands per device | checks |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const size of SIZES) {
    const raw = all.find((r) => r.size === size && r.method === "raw");
    for (const row of all.filter((r) => r.size === size)) {
      const wall = median(row.wall);
      const cpu = median(row.cpuPerDevice);
      const rss = median(row.runtimePeakRssKb.length > 0 ? row.runtimePeakRssKb : row.peakRssKb);
      lines.push(
        `| ${size} | ${METHODS[row.method]} | ${(wall / 1000).toFixed(2)} s | ${raw ? `${(wall / median(raw.wall)).toFixed(2)}×` : "—"} | ${f1(cpu)} ms | ${raw ? `${(cpu / median(raw.cpuPerDevice)).toFixed(2)}×` : "—"} | ${Math.round(rss / 1024)} MB${row.method === "keyheal" ? " (runtime)" : ""} | ${f1(row.handshakes)} / ${f1(row.commands)} | ${row.problems.length === 0 ? `ok ×${row.wall.length}` : `✗ ${row.problems[0]}`} |`,
      );
    }
  }
  const largest = Math.max(...SIZES);
  const at = (m: Method) => all.find((r) => r.size === largest && r.method === m);
  const kh = at("keyheal");
  const raw = at("raw");
  const ansible = at("ansible");
  if (kh && raw) {
    lines.push(
      "",
      `Targets at N = ${largest}: wall ${(median(kh.wall) / median(raw.wall)).toFixed(2)}× the raw script (target ≤ 1.3×)${ansible ? `, ${(median(ansible.wall) / median(kh.wall)).toFixed(1)}× faster than Ansible (target ≥ 6×)` : ""}, controller CPU ${(median(kh.cpuPerDevice) / median(raw.cpuPerDevice)).toFixed(2)}× the raw script's (target ≤ 1.5×), runtime peak RSS ${Math.round(median(kh.runtimePeakRssKb) / 1024)} MB (target ≤ 250 MB).`,
    );
  }
  if (reconnect)
    lines.push(
      "",
      `Reconnect → KEY_BASED, ${reconnect.samples} devices one after another (a \`Device Reconnected\` event to the runtime's API, then polling the device until KEY_BASED; the SSH time is the raw script's heal of the same device: connect with the old key, one rewrite, connect with the new key): p50 ${f1(reconnect.latency.p50)} ms, p95 ${f1(reconnect.latency.p95)} ms; SSH time p50 ${f1(reconnect.ssh.p50)} ms; keyheal's overhead beyond it p50 ${f1(reconnect.overhead.p50)} ms, p95 ${f1(reconnect.overhead.p95)} ms (target ≤ 50 ms p50). One command on an open connection (sshd's session and the login shell's start; keyheal's heal runs one, its framed shell, as the raw script runs one) p50 ${f1(reconnect.session.p50)} ms, p95 ${f1(reconnect.session.p95)} ms.`,
      "",
      "| part of a reconnect (p50) | ms |",
      "| --- | --- |",
      ...reconnect.breakdown.map((b) => `| ${b.part} | ${f1(b.p50)} |`),
    );
  if (profile) lines.push("", profile);
  return lines.join("\n");
}

/** The command that reproduces this run: the variables that were set, then the script. */
function commandLine(): string {
  const set = [
    "SIZES",
    "RUNS",
    "METHODS",
    "PARTS",
    "CONCURRENCY",
    "RECONNECTS",
    "RECORDS",
    "PROFILE",
  ]
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]}`);
  return [...set, "npm run bench:rotate"].join(" ");
}

function renderStore(store: Awaited<ReturnType<typeof measureFailureStore>>): string {
  return [
    `Measured ${started.toISOString().slice(0, 16).replace("T", " ")} UTC by \`${commandLine()}\`, ${loadText()}.`,
    "",
    `Failure store (embedded engine, in process, over its Unix socket) with ${store.records.toLocaleString("en")} records, filtered by cause and a time range: first page of 50 p50 ${f1(store.firstPage.p50)} ms, p99 ${f1(store.firstPage.p99)} ms (target ≤ 20 ms p99); page ${store.deepPageNumber} (following cursors) p50 ${f1(store.deepPage.p50)} ms; delete-all in pages of 200 as \`failures delete --all\` does: ${(store.deleteAllMs / 1000).toFixed(1)} s for ${store.deleted.toLocaleString("en")} records${store.deleted < store.records ? ` (stopped at the ${DELETE_BUDGET_S} s bound; at that rate all ${store.records.toLocaleString("en")} take ${(((store.deleteAllMs / store.deleted) * store.records) / 1000).toFixed(0)} s)` : ""}. Loading them took ${(store.loadMs / 1000).toFixed(1)} s.`,
  ].join("\n");
}

async function writeResults(marker: string, text: string): Promise<void> {
  const begin = `<!-- ${marker}:begin -->`;
  const end = `<!-- ${marker}:end -->`;
  const current = await readFile(RESULTS, "utf8");
  const block = `${begin}\n${text}\n${end}`;
  const next =
    current.includes(begin) && current.includes(end)
      ? current.slice(0, current.indexOf(begin)) +
        block +
        current.slice(current.indexOf(end) + end.length)
      : `${current.trimEnd()}\n\n## Fleet rotation (\`bench/rotate.ts\`)\n\n${block}\n`;
  await writeFile(RESULTS, next);
}
