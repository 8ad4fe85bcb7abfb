import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../../lib/files/atomic-write.ts";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyheal-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("replaces a file whole with the mode asked, whatever it had, and leaves no temp file", async () => {
    const path = join(dir, "api-token");
    await writeFile(path, "old\n", { mode: 0o644 });
    await writeFileAtomic(path, "new\n");
    expect(await readFile(path, "utf8")).toBe("new\n");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, "public\n", 0o644);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(["api-token"]);
  });

  it("leaves the target as it was and no temp file when the rename fails", async () => {
    const path = join(dir, "taken");
    await writeFile(join(dir, "keep"), "x");
    // A directory in the target's place: the rename of a file over it fails.
    await mkdir(path);
    await expect(writeFileAtomic(path, "content")).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(["keep", "taken"]);
    expect((await stat(path)).isDirectory()).toBe(true);
  });
});
