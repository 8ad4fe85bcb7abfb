/**
 * How the CLI finds a running local runtime (DESIGN §6): `<dataDir>/api-url` holds the URL,
 * `<dataDir>/api-token` the bearer token (mode 0600). Written once the API listens, removed on
 * a clean shutdown.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

export const API_URL_FILE = "api-url";
export const API_TOKEN_FILE = "api-token";

/** Writes `content` to `path` atomically: a private temp file renamed over it. */
export async function writePrivateFile(path: string, content: string, mode = 0o600) {
  const temp = `${path}.${randomUUID()}.tmp`;
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content, "utf8");
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeDiscovery(dataDir: string, url: string, token: string): Promise<void> {
  await writePrivateFile(join(dataDir, API_TOKEN_FILE), `${token}\n`, 0o600);
  await writePrivateFile(join(dataDir, API_URL_FILE), `${url}\n`, 0o644);
}

export async function removeDiscovery(dataDir: string): Promise<void> {
  await rm(join(dataDir, API_URL_FILE), { force: true });
  await rm(join(dataDir, API_TOKEN_FILE), { force: true });
}

/** The URL and token of the runtime on `dataDir`; `undefined` when none has written them. */
export async function readDiscovery(
  dataDir: string,
): Promise<{ url: string; token: string } | undefined> {
  try {
    const [url, token] = await Promise.all([
      readFile(join(dataDir, API_URL_FILE), "utf8"),
      readFile(join(dataDir, API_TOKEN_FILE), "utf8"),
    ]);
    return { url: url.trim(), token: token.trim() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
