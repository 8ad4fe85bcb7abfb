/**
 * The ops API over node:http on loopback: the request's own checks (target, Host, origin: see
 * request-guard.ts), bearer-token check, JSON in and out, then the same transport-free dispatch an
 * API Gateway handler would use. Bodies are never logged. No request, however malformed, gets
 * past the handler: each is answered (400 for a bad one) and the server keeps serving.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@aws-lambda-powertools/logger";
import { BadRequestError, errorResponse, UnauthorizedError } from "../api/errors.ts";
import { createRouter, dispatch } from "../api/routes.ts";
import type { ApiContext, ApiResponse } from "../api/types.ts";
import { bearerMatches } from "../http/bearer.ts";
import { readBodyText, send } from "../http/io.ts";
import { assertOwnRequest, type LoopbackAddress, requestUrl } from "../http/request-guard.ts";
import { consoleFile, DEFAULT_CONSOLE_DIR } from "./console-files.ts";

/** How long a client may take to send its headers, and its whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiServerOptions {
  context: ApiContext;
  token: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: the API is for this machine only. */
  host?: string;
  log: Pick<Logger, "info" | "warn" | "error">;
  /** The console's built files; default `web/dist` of this checkout. */
  consoleDir?: string;
}

export interface ApiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /**
   * Stops accepting connections, lets requests in progress finish (up to `graceMs`), then
   * closes whatever connection is left.
   */
  close(graceMs?: number): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const router = createRouter();
  const { log, token, context } = options;
  const consoleDir = options.consoleDir ?? DEFAULT_CONSOLE_DIR;
  let self: LoopbackAddress | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? "GET";
    let path = "(invalid)";
    let response: ApiResponse;
    try {
      assertOwnRequest(req.headers, self as LoopbackAddress);
      const url = requestUrl(req.url);
      path = url.pathname;
      if (method === "GET" || method === "HEAD") {
        const file = await consoleFile(consoleDir, url.pathname).catch(() => undefined);
        if (file) {
          res.writeHead(file.status, {
            "content-length": Buffer.byteLength(file.body),
            ...file.headers,
          });
          res.end(method === "HEAD" ? undefined : file.body);
          return;
        }
      }
      if (!bearerMatches(req.headers.authorization, token)) throw new UnauthorizedError();
      const body = await readJsonBody(req);
      const query: Record<string, string> = {};
      for (const [name, value] of url.searchParams) query[name] = value;
      response = await dispatch(context, router, method, url.pathname, { query, body });
    } catch (error) {
      response = errorResponse(error);
      if (response.status >= 500) log.error("request failed", { method, path, error });
    }
    send(res, response);
    log.info("request", {
      method,
      path,
      status: response.status,
      ms: Math.round(performance.now() - started),
    });
  };
  // Whatever escapes the handler (a client gone mid-answer) ends that exchange, not the process.
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error("request handling failed", { error });
      if (!res.headersSent) send(res, errorResponse(error));
      else res.destroy();
    });
  });
  // A client that trickles its headers or body (slowloris) is cut off, not waited on.
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  self = { address, port };
  return {
    url: `http://${address}:${port}`,
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The parsed JSON body; `undefined` when there is none. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBodyText(req);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("(body)", "The request body is not valid JSON.");
  }
}
