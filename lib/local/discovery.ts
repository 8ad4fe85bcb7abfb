/**
 * How the CLI finds a running local runtime (docs/architecture.md, Contracts): `<dataDir>/api-url` holds the URL,
 * `<dataDir>/api-token` the bearer token (mode 0600). Written once the API listens, removed on
 * a clean shutdown.
 *
 * @module
 */
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../files/atomic-write.ts";

/** The file in the data directory holding the local runtime's API URL. */
export const API_URL_FILE = "api-url";
/** The file in the data directory holding the API's bearer token (mode 0600). */
export const API_TOKEN_FILE = "api-token";
/** The data directory when neither `--data-dir` nor {@link DATA_DIR_ENV} names one. */
export const DEFAULT_DATA_DIR = ".keyheal";
/** The environment variable naming the data directory. */
export const DATA_DIR_ENV = "KEYHEAL_DATA_DIR";
/** The environment variables giving an API's URL and its bearer token instead of the files. */
export const API_ENV = "KEYHEAL_API";
export const TOKEN_ENV = "KEYHEAL_TOKEN";

/**
 * The data directory, absolute: `flag` (`--data-dir`), else `fromEnv` ({@link DATA_DIR_ENV}),
 * else {@link DEFAULT_DATA_DIR}, relative to `cwd`.
 */
export function dataDirOf(flag: string | undefined, fromEnv: string | undefined, cwd: string) {
  return resolve(cwd, flag ?? fromEnv ?? DEFAULT_DATA_DIR);
}

export async function writeDiscovery(dataDir: string, url: string, token: string): Promise<void> {
  await writeFileAtomic(join(dataDir, API_TOKEN_FILE), `${token}\n`, 0o600);
  await writeFileAtomic(join(dataDir, API_URL_FILE), `${url}\n`, 0o644);
}

export async function removeDiscovery(dataDir: string): Promise<void> {
  await rm(join(dataDir, API_URL_FILE), { force: true });
  await rm(join(dataDir, API_TOKEN_FILE), { force: true });
}
