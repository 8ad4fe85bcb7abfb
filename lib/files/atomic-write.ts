/**
 * Writing a file so that no reader ever sees half of it: the content goes to a new temp file of
 * the target's mode beside it, is synced, then renamed over the target. Used by the file secret
 * store, the API files and the data directory's lock.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Temp files start with "." and end with this, so a crash's leftovers can be told and removed. */
export const TEMP_SUFFIX = ".tmp";

/**
 * Writes `content` to `path` atomically with `mode` (default 0600, private): a temp file created
 * exclusively with that mode (and chmod-ed, whatever the umask), synced, renamed over `path`.
 * On failure the temp file is removed and `path` is as it was.
 */
export async function writeFileAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  // Short whatever the target's name, which may be near the 255-byte limit of a file name.
  const temp = join(dirname(path), `.${randomUUID()}${TEMP_SUFFIX}`);
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content, "utf8");
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
