/**
 * Function bundle benchmark: bundles every Lambda handler under functions/ with the esbuild
 * settings the CDK construct deploys (cdk/bundling.ts), once with the AWS SDK left to the Lambda
 * runtime and once with our pinned SDK inside, and reports each bundle's size and its cold import
 * time: a fresh Node process per run requires the bundle, median of RUNS runs. The table goes
 * into bench/RESULTS.md between its bundle-size markers.
 *
 *   npm run bench:bundle          # RUNS=7 by default
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { bundleSettings, DEPLOYED_SDK, esbuildOptions, type SdkSource } from "../cdk/bundling.ts";
import { PROJECT_ROOT } from "../cdk/paths.ts";

const RUNS = Math.max(3, Math.min(Number(process.env.RUNS ?? 7), 25));
const GOAL_BYTES = 500_000;
const RESULTS = path.join(PROJECT_ROOT, "bench", "RESULTS.md");
const BEGIN = "<!-- bundle-size:begin -->";
const END = "<!-- bundle-size:end -->";
// Inside the project, so a bundle that leaves the SDK out resolves it from node_modules the way
// the Lambda runtime resolves its own copy.
const OUT = path.join(PROJECT_ROOT, "node_modules", ".cache", "keyheal-bundles");

/** Every handler module: functions/*.ts and functions/workflow/*.ts. */
function entries(): string[] {
  const found: string[] = [];
  for (const dir of ["functions", "functions/workflow"]) {
    for (const file of readdirSync(path.join(PROJECT_ROOT, dir))) {
      if (file.endsWith(".ts")) found.push(`${dir}/${file}`);
    }
  }
  return found.sort();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Milliseconds a fresh Node process takes to require `file` (module load and evaluation). */
function coldImportMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const child = spawnSync(process.execPath, ["-e", script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, AWS_REGION: "us-east-1" },
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr}`);
  return Number(child.stdout);
}

interface Built {
  entry: string;
  file: string;
  bytes: number;
  gzipBytes: number;
}

interface Row extends Built {
  /** Median and fastest of the cold imports. */
  importMs: { median: number; min: number };
}

async function bundleAll(sdk: SdkSource): Promise<Built[]> {
  const settings = bundleSettings(sdk);
  const built: Built[] = [];
  for (const entry of entries()) {
    const file = path.join(OUT, sdk, `${entry.replace(/[/.]/g, "_")}.cjs`);
    await build(esbuildOptions(settings, path.join(PROJECT_ROOT, entry), file));
    const code = readFileSync(file);
    built.push({ entry, file, bytes: code.length, gzipBytes: gzipSync(code).length });
  }
  return built;
}

/**
 * Cold imports of both variants of each function, interleaved run by run, so that whatever
 * else the machine does at that moment weighs on both alike.
 */
function timeImports(runtime: Built[], bundled: Built[]): [Row[], Row[]] {
  const rows: [Row[], Row[]] = [[], []];
  for (const [index, a] of runtime.entries()) {
    const b = bundled[index] as Built;
    const times: [number[], number[]] = [[], []];
    for (let run = 0; run < RUNS; run++) {
      times[0].push(coldImportMs(a.file));
      times[1].push(coldImportMs(b.file));
    }
    rows[0].push({ ...a, importMs: { median: median(times[0]), min: Math.min(...times[0]) } });
    rows[1].push({ ...b, importMs: { median: median(times[1]), min: Math.min(...times[1]) } });
    process.stdout.write(".");
  }
  return rows;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(0)} kB`;
const ms = (row: Row) => `${row.importMs.median.toFixed(0)} / ${row.importMs.min.toFixed(0)} ms`;

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
console.log(`bundling ${entries().length} functions twice, ${RUNS} cold imports each …`);
const [runtime, bundled] = timeImports(await bundleAll("runtime"), await bundleAll("bundled"));
console.log("");

const lines = [
  "| function | bundle (SDK from the runtime) | gzip | cold import, median / fastest | bundle (pinned SDK inside) | gzip | cold import, median / fastest |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
for (const [index, row] of runtime.entries()) {
  const other = bundled[index] as Row;
  const mark = (bytes: number) => (bytes <= GOAL_BYTES ? "" : " ✗");
  lines.push(
    `| ${row.entry} | ${kB(row.bytes)}${mark(row.bytes)} | ${kB(row.gzipBytes)} | ${ms(row)} | ${kB(other.bytes)}${mark(other.bytes)} | ${kB(other.gzipBytes)} | ${ms(other)} |`,
  );
}
const within = (rows: Row[]) => rows.filter((r) => r.bytes <= GOAL_BYTES).length;
const table = [
  BEGIN,
  `Measured by \`npm run bench:bundle\` on this machine (Node ${process.versions.node}); ${RUNS} cold imports per bundle, each in a fresh \`node\` process, the two variants of a function interleaved. Goal: at most 500 kB per bundle (✗ marks a bundle over it). Deployed: SDK from the ${DEPLOYED_SDK === "runtime" ? "runtime" : "bundle"}. Within the goal: ${within(runtime)}/${runtime.length} (SDK from the runtime), ${within(bundled)}/${bundled.length} (pinned SDK inside). A bundle that leaves the SDK out loads it from node_modules here, as Lambda loads the runtime's copy, so its import time includes the SDK.`,
  "",
  ...lines,
  END,
].join("\n");

const current = readFileSync(RESULTS, "utf8");
const start = current.indexOf(BEGIN);
const end = current.indexOf(END);
const next =
  start >= 0 && end > start
    ? `${current.slice(0, start)}${table}${current.slice(end + END.length)}`
    : `${current.trimEnd()}\n\n## Function bundles (\`bench/bundle-size.ts\`)\n\n${table}\n`;
writeFileSync(RESULTS, next);
console.log(table);
