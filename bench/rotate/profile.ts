/**
 * Sums a V8 `.cpuprofile` (from `node --cpu-prof`) by self time: the busiest functions, and the
 * share of busy time by where the code lives (a package, Node's internals, keyheal's own lib/).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  busyMs: number;
  functions: Array<{ name: string; where: string; ms: number; share: number }>;
  places: Array<{ place: string; ms: number; share: number }>;
}

const IDLE = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function placeOf(url: string, name: string): string {
  if (name === "(garbage collector)") return "GC";
  if (url === "") return name.startsWith("(") ? name : "native";
  if (url.startsWith("node:")) return "node internals";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const own = /\/(lib|bin|bench)\/(.*)$/.exec(url);
  return own ? `keyheal ${own[1]}/${own[2]?.split("/")[0]}` : url;
}

/**
 * A span of the monotonic clock, in µs: V8 stamps profile samples with the same clock as
 * `process.hrtime`, so a span measured in the bench selects the samples taken during it.
 */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** The summary of the largest profile in `dir`, over `window` when given (else its whole life). */
export async function summariseProfiles(
  dir: string,
  window?: Window,
  top = 15,
): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  let best: Profile | undefined;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as Profile;
    if (!best || profile.samples.length > best.samples.length) best = profile;
  }
  if (!best) throw new Error(`no .cpuprofile in ${dir}`);
  const byId = new Map(best.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  let at = best.startTime;
  best.samples.forEach((id, i) => {
    const delta = best.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  const places = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (IDLE.has(name) && name !== "(garbage collector)") continue;
    busyMs += ms;
    const where = url
      ? `${url.replace(/^.*\/(node_modules|lib|bench|bin)\//, "$1/")}:${lineNumber + 1}`
      : "";
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
    const place = placeOf(url, name);
    places.set(place, (places.get(place) ?? 0) + ms);
  }
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    busyMs,
    functions: [...functions.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.ms) })),
    places: [...places.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([place, ms]) => ({ place, ms, share: share(ms) })),
  };
}
