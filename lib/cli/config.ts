/**
 * Where the CLI finds the API (DESIGN §6 discovery). The only module that knows the environment
 * variables; the entry point hands it `process.env` once and nothing deeper reads it.
 *
 * Precedence, first match wins:
 * 1. `--data-dir D`: the `api-url` and `api-token` files the local runtime wrote in D;
 * 2. `KEYHEAL_API` with `KEYHEAL_TOKEN`;
 * 3. `KEYHEAL_DATA_DIR`: its `api-url` and `api-token`;
 * 4. `./.keyheal`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError, RuntimeUnreachableError, UsageError } from "./errors.ts";

/** The environment variables the CLI reads, and nothing else. */
export interface CliEnv {
  /** `KEYHEAL_DATA_DIR` */
  dataDir?: string | undefined;
  /** `KEYHEAL_API` */
  api?: string | undefined;
  /** `KEYHEAL_TOKEN` */
  token?: string | undefined;
}

/** Picks the CLI's variables out of a process environment; empty values count as unset. */
export function cliEnvFrom(env: Readonly<Record<string, string | undefined>>): CliEnv {
  const value = (name: string) => {
    const text = env[name]?.trim();
    return text === undefined || text === "" ? undefined : text;
  };
  return {
    dataDir: value("KEYHEAL_DATA_DIR"),
    api: value("KEYHEAL_API"),
    token: value("KEYHEAL_TOKEN"),
  };
}

export const DEFAULT_DATA_DIR = ".keyheal";
export const API_URL_FILE = "api-url";
export const API_TOKEN_FILE = "api-token";

/** The data directory: `--data-dir`, else `KEYHEAL_DATA_DIR`, else `./.keyheal`; absolute. */
export function dataDirOf(flag: string | undefined, env: CliEnv, cwd: string): string {
  return resolve(cwd, flag ?? env.dataDir ?? DEFAULT_DATA_DIR);
}

/** An API to call: its base URL, the bearer token, and where both came from (for messages). */
export interface ApiTarget {
  baseUrl: string;
  token: string;
  /** `KEYHEAL_API` or the data directory's path. */
  source: string;
  /** The data directory when the target came from one. */
  dataDir?: string | undefined;
}

/**
 * Resolves the API to call, by the precedence of this module.
 *
 * @throws RuntimeUnreachableError when no runtime has written its URL and token
 * @throws UsageError for `KEYHEAL_API` without `KEYHEAL_TOKEN`, or a URL keyheal cannot use
 */
export async function discoverApi(
  dataDirFlag: string | undefined,
  env: CliEnv,
  cwd: string,
): Promise<ApiTarget> {
  if (dataDirFlag === undefined && env.api !== undefined) {
    const baseUrl = checkUrl(env.api, "KEYHEAL_API");
    if (new URL(baseUrl).hostname.endsWith(".amazonaws.com")) {
      throw new UsageError(
        `KEYHEAL_API ${baseUrl} is a deployed AWS API, which needs SigV4-signed calls; this CLI does not sign yet. Call it through the console or an AWS SDK for now.`,
      );
    }
    if (env.token === undefined) {
      throw new UsageError(
        "KEYHEAL_API is set but KEYHEAL_TOKEN is not: set both, or unset KEYHEAL_API to use the data directory the local runtime wrote",
      );
    }
    return { baseUrl, token: env.token, source: "KEYHEAL_API" };
  }
  const dataDir = dataDirOf(dataDirFlag, env, cwd);
  const start =
    dataDirFlag === undefined && env.dataDir === undefined
      ? "keyheal local start"
      : `keyheal local start --data-dir ${dataDir}`;
  const read = async (file: string): Promise<string> => {
    const path = join(dataDir, file);
    try {
      return (await readFile(path, "utf8")).trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new RuntimeUnreachableError(
          `no keyheal runtime found: ${path} does not exist. Start one with \`${start}\`, or set KEYHEAL_API and KEYHEAL_TOKEN.`,
          undefined,
          { cause: error },
        );
      }
      throw new InputError(`cannot read ${path} (${code ?? "unreadable"})`, { cause: error });
    }
  };
  const baseUrl = checkUrl(await read(API_URL_FILE), join(dataDir, API_URL_FILE));
  const token = await read(API_TOKEN_FILE);
  if (token === "") throw new InputError(`${join(dataDir, API_TOKEN_FILE)} is empty`);
  return { baseUrl, token, source: dataDir, dataDir };
}

/** An http(s) URL without a trailing slash, or a UsageError naming where it came from. */
function checkUrl(text: string, from: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${from} must hold an http(s) URL such as http://127.0.0.1:7300`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${from} must hold an http(s) URL such as http://127.0.0.1:7300`);
  }
  if (url.username || url.password) {
    throw new UsageError(`${from} must not hold credentials; the token comes from KEYHEAL_TOKEN`);
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
