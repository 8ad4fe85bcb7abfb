/**
 * For the CLI's unit tests: a tiny HTTP server on 127.0.0.1 that records every request and
 * answers from a handler the test gives, and a runner that starts `bin/keyheal` as a child
 * process with a clean environment.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceView, FailureView, RunView } from "../../../lib/contract/api.ts";

export const KEYHEAL = new URL("../../../bin/keyheal", import.meta.url).pathname;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
  /** The request line's target as sent: path and query, percent-encoded. */
  rawUrl: string;
  rawBody: string;
  headers: IncomingHttpHeaders;
}

export interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (
  request: RecordedRequest,
) => Answer | undefined | Promise<Answer | undefined>;

export interface FakeApi {
  url: string;
  token: string;
  requests: RecordedRequest[];
  /** A data directory holding this API's api-url and api-token, as the local runtime writes. */
  dataDir: string;
  close(): Promise<void>;
}

/** Starts a server that answers with `handler` (404 when it returns undefined). */
export async function startFakeApi(handler: Handler, token = "test-token"): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const text = Buffer.concat(chunks).toString("utf8");
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: req.headers.authorization,
        body: text === "" ? undefined : JSON.parse(text),
        rawUrl: req.url ?? "/",
        rawBody: text,
        headers: req.headers,
      };
      requests.push(recorded);
      const answer = (await handler(recorded)) ?? {
        status: 404,
        body: { error: "NotFound", message: `no route ${recorded.method} ${recorded.path}` },
      };
      res.writeHead(answer.status ?? 200, {
        "content-type": "application/json",
        ...answer.headers,
      });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), "keyheal-cli-"));
  await writeFile(join(dataDir, "api-url"), `${url}\n`);
  await writeFile(join(dataDir, "api-token"), `${token}\n`, { mode: 0o600 });
  return {
    url,
    token,
    requests,
    dataDir,
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `bin/keyheal args…`. The environment holds only PATH, HOME and `env`, so the developer's
 * own KEYHEAL_* variables never leak in.
 */
export function keyheal(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(KEYHEAL, args, {
      cwd: options.cwd ?? tmpdir(),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    child.stdin.end(options.stdin ?? "");
  });
}

/** A device answer of the contract (parsed by its schema, so a fixture cannot drift from it). */
export function deviceAnswer(fields: Partial<DeviceView> = {}): DeviceView {
  return DeviceView.parse({
    id: "dev-1",
    host: "10.0.0.5",
    port: 22,
    adminUser: "ops",
    status: "KEY_CONFLICT",
    keyGeneration: 1,
    hostKeyFingerprint: "SHA256:aQy/lYCTH0USt3SH4PlGB9aQPQcbtbfJRbgtguJ7qe8",
    lastFailureCause: null,
    instanceId: null,
    region: null,
    authorizedKeysPath: null,
    createdAt: "2025-06-01T11:00:00.000Z",
    updatedAt: "2025-06-01T12:00:00.000Z",
    lastCheckedAt: null,
    ...fields,
  });
}

/** A failure answer of the contract. */
export function failureAnswer(fields: Partial<FailureView> = {}): FailureView {
  return FailureView.parse({
    id: "01JX0000000000000000000000",
    deviceId: "dev-1",
    operation: "DETECT",
    cause: "AUTH_REJECTED",
    message: "no key accepted",
    hint: "restore authorized_keys, or resolve by hand",
    attempt: 2,
    keyGeneration: 3,
    runId: "dev-1-abc",
    occurredAt: "2025-06-01T12:00:00.000Z",
    expiresAt: "2025-08-30T12:00:00.000Z",
    retriedByRunId: null,
    ...fields,
  });
}

/** A run answer of the contract. */
export function runRecord(id: string, status: string, deviceId: string | null = "dev-1"): RunView {
  return RunView.parse({
    id,
    workflow: "reconnect",
    deviceId,
    status,
    startedAt: "2025-06-01T12:00:00.000Z",
    endedAt: status === "RUNNING" ? null : "2025-06-01T12:00:04.200Z",
    steps: [
      {
        name: "Detect",
        type: "Task",
        status: status === "FAILED" ? "CAUGHT" : "SUCCEEDED",
        startedAt: "2025-06-01T12:00:00.000Z",
        endedAt: "2025-06-01T12:00:01.000Z",
        ...(status === "FAILED"
          ? {
              error: "Keyheal.AuthRejected",
              cause: JSON.stringify({ cause: "AUTH_REJECTED", message: "no key accepted" }),
              caughtBy: "RecordFailure",
            }
          : {}),
      },
    ],
    error: null,
    cause: null,
    stepsOmitted: 0,
    output: null,
    progress: null,
  });
}
