import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME_NODE_FLAGS } from "../../lib/local/memory.ts";

const MAIN = fileURLToPath(new URL("./local-runtime-main.ts", import.meta.url));

export interface RuntimeProcessOptions {
  dataDir: string;
  inventory?: string;
  /** Default 300 ms, so a reconnect is seen quickly. */
  probeInterval?: string;
  extraArgs?: string[];
  /** Another entry point and its leading arguments, instead of local-runtime-main.ts. */
  main?: string[];
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

/** What a run of the runtime process printed and how it ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A local runtime running as a child process, driven only over HTTP. */
export interface RuntimeProcess {
  pid: number;
  url: string;
  token: string;
  dataDir: string;
  /** Everything the process printed so far (logs included). */
  output(): string;
  /**
   * One API call. `token: null` sends no Authorization header; a string sends that token
   * instead of the runtime's.
   */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null },
  ): Promise<ApiAnswer<T>>;
  /** SIGTERM (or `signal`) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Settles when the process ends, whatever ends it. */
  exited: Promise<ProcessExit>;
}

function argsOf(options: RuntimeProcessOptions): string[] {
  return [
    ...(options.main ?? [MAIN]),
    "--data-dir",
    options.dataDir,
    "--probe-interval",
    options.probeInterval ?? "300ms",
    ...(options.inventory ? ["--inventory", options.inventory] : []),
    ...(options.extraArgs ?? []),
  ];
}

function spawnRuntime(options: RuntimeProcessOptions) {
  const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, ...argsOf(options)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "INFO" },
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.setEncoding("utf8").on("data", (text: string) => {
    out.stdout += text;
  });
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    out.stderr += text;
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      // Let the pipes flush what the process wrote last.
      setImmediate(() => resolve({ code, signal, ...out }));
    });
  });
  return { child, out, exited };
}

/**
 * Starts `keyheal local start` as a child process and waits until it says it is ready, then
 * finds its URL and token the way the CLI does: in the data directory.
 */
export async function startRuntimeProcess(options: RuntimeProcessOptions): Promise<RuntimeProcess> {
  const { child, out, exited } = spawnRuntime(options);
  const ready = await Promise.race([
    waitForText(() => out.stdout, "keyheal local runtime ready", 60_000),
    exited.then(() => false),
  ]);
  if (!ready) {
    child.kill("SIGKILL");
    const exit = await exited;
    throw new Error(
      `the runtime did not start (exit ${exit.code}):\n${exit.stdout}\n${exit.stderr}`,
    );
  }
  const url = (await readFile(join(options.dataDir, "api-url"), "utf8")).trim();
  const token = (await readFile(join(options.dataDir, "api-token"), "utf8")).trim();
  return {
    pid: child.pid as number,
    url,
    token,
    dataDir: options.dataDir,
    output: () => out.stdout + out.stderr,
    exited,
    async api(method, path, body, apiOptions = {}) {
      const sent = apiOptions.token === undefined ? token : apiOptions.token;
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(sent === null ? {} : { authorization: `Bearer ${sent}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the runtime process to its end (for starts that are refused). */
export async function runRuntimeProcess(
  options: RuntimeProcessOptions,
  timeoutMs = 30_000,
): Promise<ProcessExit> {
  const { child, exited } = spawnRuntime(options);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  return exit;
}

async function waitForText(read: () => string, text: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!read().includes(text)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Polls `check` until it returns a value other than `undefined`/`false`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 45_000,
  intervalMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
