/**
 * The ops API over node:http on loopback: bearer-token check, JSON in and out, then the same
 * transport-free dispatch an API Gateway handler would use. Bodies are never logged.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@aws-lambda-powertools/logger";
import { BadRequestError, errorResponse, UnauthorizedError } from "../api/errors.ts";
import { createRouter, dispatch } from "../api/routes.ts";
import type { ApiContext, ApiResponse } from "../api/types.ts";
import { bearerMatches } from "./auth.ts";
import { consoleFile, DEFAULT_CONSOLE_DIR } from "./console-files.ts";
import { readBodyText, send } from "./http-io.ts";

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
  const server: Server = createServer(async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
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
    let response: ApiResponse;
    try {
      if (!bearerMatches(req.headers.authorization, token)) throw new UnauthorizedError();
      const body = await readJsonBody(req);
      const query: Record<string, string> = {};
      for (const [name, value] of url.searchParams) query[name] = value;
      response = await dispatch(context, router, method, url.pathname, { query, body });
    } catch (error) {
      response = errorResponse(error);
    }
    send(res, response);
    log.info("request", {
      method,
      path: url.pathname,
      status: response.status,
      ms: Math.round(performance.now() - started),
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
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
