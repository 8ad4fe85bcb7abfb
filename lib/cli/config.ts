/**
 * Where the CLI finds the API (docs/architecture.md, Contracts). The only module that knows the environment
 * variables; the entry point hands it `process.env` once and nothing deeper reads it.
 *
 * Precedence, first match wins:
 * 1. `--data-dir D`: the `api-url` and `api-token` files the local runtime wrote in D;
 * 2. `KEYHEAL_API`: a deployed API (an `execute-api` URL, or any URL with `--sigv4` or
 *    `KEYHEAL_API_SIGV4=1`) called with SigV4 signatures; otherwise with `KEYHEAL_TOKEN`;
 * 3. `KEYHEAL_DATA_DIR`: its `api-url` and `api-token`;
 * 4. `./.keyheal`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  API_ENV,
  API_TOKEN_FILE,
  API_URL_FILE,
  DATA_DIR_ENV,
  dataDirOf as resolveDataDir,
  TOKEN_ENV,
} from "../local/discovery.ts";
import { InputError, RuntimeUnreachableError, UsageError } from "./errors.ts";

/** The environment variables the CLI reads, and nothing else. */
export interface CliEnv {
  /** `KEYHEAL_DATA_DIR` */
  dataDir?: string | undefined;
  /** `KEYHEAL_API` */
  api?: string | undefined;
  /** `KEYHEAL_TOKEN` */
  token?: string | undefined;
  /** `KEYHEAL_API_SIGV4`, as given: `1`/`true`/`yes` signs calls to `KEYHEAL_API` with SigV4. */
  sigv4?: string | undefined;
  /** `AWS_REGION`, else `AWS_DEFAULT_REGION`: the signing region when the URL does not name one. */
  awsRegion?: string | undefined;
}

/** Picks the CLI's variables out of a process environment; empty values count as unset. */
export function cliEnvFrom(env: Readonly<Record<string, string | undefined>>): CliEnv {
  const value = (name: string) => {
    const text = env[name]?.trim();
    return text === undefined || text === "" ? undefined : text;
  };
  return {
    dataDir: value(DATA_DIR_ENV),
    api: value(API_ENV),
    token: value(TOKEN_ENV),
    sigv4: value("KEYHEAL_API_SIGV4"),
    awsRegion: value("AWS_REGION") ?? value("AWS_DEFAULT_REGION"),
  };
}

/** The data directory: `--data-dir`, else `KEYHEAL_DATA_DIR`, else `./.keyheal`; absolute. */
export function dataDirOf(flag: string | undefined, env: CliEnv, cwd: string): string {
  return resolveDataDir(flag, env.dataDir, cwd);
}

/** An API called with a bearer token: a local runtime. */
export interface BearerTarget {
  baseUrl: string;
  token: string;
  /** `KEYHEAL_API` or the data directory's path. */
  source: string;
  /** The data directory when the target came from one. */
  dataDir?: string | undefined;
}

/** A deployed API behind IAM auth: calls are signed with SigV4 from the AWS credential chain. */
export interface SigV4Target {
  baseUrl: string;
  sigv4: { region: string };
  source: string;
}

/** An API to call: its base URL, how calls are authorized, and where it came from (for messages). */
export type ApiTarget = BearerTarget | SigV4Target;

/** Whether calls to `target` are signed with SigV4 (no bearer token is sent then). */
export function isSigV4Target(target: ApiTarget): target is SigV4Target {
  return "sigv4" in target;
}

/** `abc123.execute-api.eu-west-1.amazonaws.com` (also `.vpce.` and `.amazonaws.com.cn`). */
const EXECUTE_API_HOST =
  /(?:^|\.)execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;

/** The region an API Gateway URL names in its host, or undefined for any other host. */
export function regionOfApiHost(hostname: string): string | undefined {
  return EXECUTE_API_HOST.exec(hostname.toLowerCase())?.[1];
}

/** 127.0.0.0/8, ::1 and localhost: where an unencrypted signed call stays on this machine. */
function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** `KEYHEAL_API_SIGV4` as a yes/no; a value that is neither is a UsageError. */
function sigv4FromEnv(text: string | undefined): boolean {
  if (text === undefined) return false;
  if (/^(?:1|true|yes|on)$/i.test(text)) return true;
  if (/^(?:0|false|no|off)$/i.test(text)) return false;
  throw new UsageError(`KEYHEAL_API_SIGV4 must be 1 or 0 (got ${JSON.stringify(text)})`);
}

/**
 * The signed target for `KEYHEAL_API`: the region from an `execute-api` host, else from
 * AWS_REGION. Plain http is refused except on loopback, where nothing leaves the machine.
 */
function sigV4Target(baseUrl: string, env: CliEnv): SigV4Target {
  const url = new URL(baseUrl);
  if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
    throw new UsageError(
      `KEYHEAL_API ${baseUrl} is not https: signed calls to a deployed API go over https only`,
    );
  }
  const region = regionOfApiHost(url.hostname) ?? env.awsRegion;
  if (region === undefined) {
    throw new UsageError(
      `KEYHEAL_API ${baseUrl} does not name its AWS region: set AWS_REGION to the API's region (e.g. AWS_REGION=eu-west-1)`,
    );
  }
  return { baseUrl, sigv4: { region }, source: "KEYHEAL_API" };
}

/**
 * Resolves the API to call, by the precedence of this module.
 *
 * @param sigv4Flag `--sigv4`: sign calls to `KEYHEAL_API` whatever its host.
 * @throws RuntimeUnreachableError when no runtime has written its URL and token
 * @throws UsageError for `KEYHEAL_API` without `KEYHEAL_TOKEN` (unsigned), a URL keyheal cannot
 *   use, or `--sigv4` without `KEYHEAL_API`
 */
export async function discoverApi(
  dataDirFlag: string | undefined,
  env: CliEnv,
  cwd: string,
  sigv4Flag = false,
): Promise<ApiTarget> {
  if (sigv4Flag && dataDirFlag !== undefined) {
    throw new UsageError(
      "--sigv4 signs calls to the deployed API in KEYHEAL_API; a local runtime (--data-dir) takes its token instead",
    );
  }
  const sigv4 = sigv4Flag || (dataDirFlag === undefined && sigv4FromEnv(env.sigv4));
  if (sigv4 && env.api === undefined) {
    throw new UsageError(
      `${sigv4Flag ? "--sigv4" : "KEYHEAL_API_SIGV4"} signs calls to a deployed API: set KEYHEAL_API to its URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod`,
    );
  }
  if (dataDirFlag === undefined && env.api !== undefined) {
    const baseUrl = checkUrl(env.api, "KEYHEAL_API");
    if (sigv4 || regionOfApiHost(new URL(baseUrl).hostname) !== undefined) {
      return sigV4Target(baseUrl, env);
    }
    if (env.token === undefined) {
      throw new UsageError(
        "KEYHEAL_API is set but KEYHEAL_TOKEN is not: set both, or unset KEYHEAL_API to use the data directory the local runtime wrote (a deployed API needs --sigv4 or KEYHEAL_API_SIGV4=1 when its URL is not an execute-api one)",
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
    throw new UsageError(
      `${from} must not hold credentials; the token comes from KEYHEAL_TOKEN, AWS credentials from the AWS credential chain`,
    );
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
