import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEYHEAL } from "../../harness/cli.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const NODE = join(ROOT, "node_modules/.bin/node");
const ENTRY = join(ROOT, "bin/keyheal.ts");

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "keyheal-home-"));
});
afterEach(() => rm(home, { recursive: true, force: true }));

/** `command args…` with only PATH and HOME; a hang ends at 20 s with status null. */
function version(command: string, args: string[], env: Record<string, string>) {
  const result = spawnSync(command, [...args, "--version"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    timeout: 20_000,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout };
}

describe("the CLI's compiled-module cache", () => {
  it("is kept in the user's own cache directory, by the launcher and by the entry file", async () => {
    expect(version(KEYHEAL, [], { HOME: home })).toMatchObject({ status: 0 });
    const cache = join(home, ".cache", "keyheal", "compile-cache");
    expect((await readdir(cache)).length).toBeGreaterThan(0);
    const other = join(home, "xdg");
    expect(version(NODE, [ENTRY], { HOME: home, XDG_CACHE_HOME: other })).toMatchObject({
      status: 0,
    });
    expect((await readdir(join(other, "keyheal", "compile-cache"))).length).toBeGreaterThan(0);
  });

  it("a home where no directory can be made (/proc) runs the command without a cache, and does not hang", () => {
    // Node's own recursive mkdir never returns under /proc; keyheal makes the directory itself.
    for (const [command, args] of [
      [KEYHEAL, []],
      [NODE, [ENTRY]],
    ] as const) {
      const result = version(command, [...args], { HOME: "/proc" });
      expect(result.status, `${command} ${args.join(" ")}`).toBe(0);
      expect(result.stdout).toMatch(/^keyheal \d+\.\d+\.\d+/);
    }
  });
});
