/**
 * `keyheal console`: opens the ops console. A local runtime serves it itself: the command prints
 * its address with the token. A deployed API authorizes every call with IAM, which a browser
 * cannot sign: the command then runs a proxy on 127.0.0.1 that serves the console and signs each
 * call with the operator's AWS credentials (SigV4, the standard chain), behind a token of its own
 * so no other local user's browser can borrow them.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, errorResponse } from "../api/errors.ts";
import { bearerMatches, generateToken } from "../http/bearer.ts";
import { readBodyText, send } from "../http/io.ts";
import { assertOwnRequest, type LoopbackAddress, requestUrl } from "../http/request-guard.ts";
import { waitForStopSignal } from "../http/stop-signal.ts";
import type { ApiClient } from "./api-client.ts";
import { stringOption } from "./args.ts";
import { type CommandSpec, NO_POSITIONALS } from "./command.ts";
import { isSigV4Target } from "./config.ts";
import { EXIT, UsageError } from "./errors.ts";
import { renderJson } from "./output.ts";

/** Answer headers worth passing back to the browser. */
const PASSED_HEADERS = [
  "content-type",
  "cache-control",
  "content-security-policy",
  "x-content-type-options",
  "x-frame-options",
  "referrer-policy",
  "allow",
  "location",
];

export interface ConsoleProxy {
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * Serves the console of `client`'s deployed API on 127.0.0.1: console files without a token
 * (static, as the local runtime serves them), every API call only with the proxy's token, signed
 * on its way out. Bodies are passed through unread and never logged.
 */
export async function startConsoleProxy(client: ApiClient, port = 0): Promise<ConsoleProxy> {
  const token = generateToken();
  let self: LoopbackAddress | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    try {
      assertOwnRequest(req.headers, self as LoopbackAddress);
      const url = requestUrl(req.url);
      if (
        (method === "GET" || method === "HEAD") &&
        (url.pathname === "/" || url.pathname === "/console")
      ) {
        res.writeHead(302, { location: "/console/" }).end();
        return;
      }
      const isConsoleFile =
        url.pathname.startsWith("/console/") && (method === "GET" || method === "HEAD");
      if (!isConsoleFile && !bearerMatches(req.headers.authorization, token)) {
        send(res, {
          status: 401,
          body: {
            error: "Unauthorized",
            message:
              "Missing or wrong bearer token: open the console with the address keyheal console printed.",
          },
        });
        return;
      }
      const body = method === "GET" || method === "HEAD" ? undefined : await readBodyText(req);
      const upstream = await client.forward(method, url.pathname + url.search, {
        body: body === "" ? undefined : body,
        contentType: req.headers["content-type"],
        accept: isConsoleFile ? "*/*" : "application/json",
      });
      const headers: Record<string, string> = {};
      for (const name of PASSED_HEADERS) {
        const value = upstream.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      const payload = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { ...headers, "content-length": payload.length });
      res.end(method === "HEAD" ? undefined : payload);
    } catch (error) {
      // The request's own faults (bad target, foreign Host or origin, too large) are the
      // client's; anything else is the deployed API's or the network's.
      if (error instanceof ApiError) {
        send(res, errorResponse(error));
        return;
      }
      send(res, {
        status: 502,
        body: {
          error: "BadGateway",
          message:
            error instanceof Error ? error.message : "The deployed API could not be reached.",
        },
      });
    }
  };
  // Whatever escapes the handler (a browser gone mid-answer) ends that exchange, not the proxy.
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, errorResponse(undefined));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  self = { address: "127.0.0.1", port: bound };
  return {
    url: `http://127.0.0.1:${bound}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const consoleCommands: CommandSpec[] = [
  {
    words: ["console"],
    usage: "console [--port P]",
    summary:
      "Open the ops console: the local runtime's address, or a signing proxy to a deployed API.",
    details: [
      "With a local runtime, prints the console's address with the runtime's token and exits.",
      "With a deployed API (KEYHEAL_API, calls signed with SigV4), serves the console on",
      "127.0.0.1 and signs every call with your AWS credentials, until Ctrl-C.",
    ].join("\n"),
    options: {
      port: {
        type: "string",
        value: "P",
        description: "Proxy port on 127.0.0.1 (default: any free port)",
      },
    },
    positionals: NO_POSITIONALS,
    api: true,
    json: true,
    async run(context) {
      const portText = stringOption(context.args, "port");
      const port = portText === undefined ? 0 : Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new UsageError(
          `--port must be a port number from 0 to 65535 (got ${JSON.stringify(portText)})`,
        );
      }
      const client = await context.client();
      const target = client.target;
      if (!isSigV4Target(target)) {
        const url = `${target.baseUrl}/console/#token=${target.token}`;
        context.print(context.json ? renderJson({ url, proxied: false }) : `${url}\n`);
        return EXIT.OK;
      }
      const proxy = await startConsoleProxy(client, port);
      const url = `${proxy.url}/console/#token=${proxy.token}`;
      context.print(
        context.json
          ? renderJson({ url, proxied: true, api: target.baseUrl })
          : [
              `keyheal console: signing proxy for ${target.baseUrl} (region ${target.sigv4.region})`,
              `  open ${url}`,
              "Stop with Ctrl-C.",
              "",
            ].join("\n"),
      );
      const signal = await waitForStopSignal("keyheal console");
      context.io.stderr.write(`keyheal console: ${signal}, stopping\n`);
      await proxy.close();
      return EXIT.OK;
    },
  },
];
