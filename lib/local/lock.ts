/**
 * One local runtime per data directory: `<dataDir>/runtime.lock` names the holder's pid and,
 * once it listens, its URL. A lock whose process is gone is taken over.
 *
 * @module
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../files/atomic-write.ts";
import { RuntimeLockedError } from "./errors.ts";

export { RuntimeLockedError };

export const LOCK_FILE = "runtime.lock";

interface LockContent {
  pid: number;
  url: string | null;
  startedAt: string;
}

export interface RuntimeLock {
  /** Records the API URL in the lock, for the message a second runtime gets. */
  setUrl(url: string): Promise<void>;
  /** Removes the lock, if it is still ours. */
  release(): Promise<void>;
}

/**
 * Takes the data directory's lock.
 *
 * @throws RuntimeLockedError when a live process holds it.
 */
export async function acquireRuntimeLock(dataDir: string): Promise<RuntimeLock> {
  const path = join(dataDir, LOCK_FILE);
  const content: LockContent = { pid: process.pid, url: null, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, JSON.stringify(content), { flag: "wx", mode: 0o644 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw error;
    }
    const holder = await readLock(path);
    if (holder && holder.pid !== process.pid && (await isLiveRuntime(holder.pid))) {
      throw new RuntimeLockedError(dataDir, holder);
    }
    // Stale (its process is gone) or unreadable (a crash mid-write): take it over. Two starters
    // racing for the same stale lock are kept apart by the store's own LevelDB lock.
    await rm(path, { force: true });
  }
  return {
    async setUrl(url) {
      content.url = url;
      if ((await readLock(path))?.pid === process.pid) {
        await writeFileAtomic(path, JSON.stringify(content), 0o644);
      }
    },
    async release() {
      if ((await readLock(path))?.pid === process.pid) await rm(path, { force: true });
    },
  };
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<LockContent>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid) || parsed.pid <= 0) {
      return undefined;
    }
    return {
      pid: parsed.pid,
      url: typeof parsed.url === "string" ? parsed.url : null,
      startedAt: typeof parsed.startedAt === "string" ? parsed.startedAt : "",
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is alive and, where /proc tells, a Node process: after a reboot the pid of a
 * crashed runtime may belong to anything else, which must not keep the data directory locked.
 */
async function isLiveRuntime(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, owned by another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return /node|keyheal/.test(cmdline);
  } catch {
    return true;
  }
}
