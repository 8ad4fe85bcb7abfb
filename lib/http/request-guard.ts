/**
 * The checks every request to a keyheal loopback server (the local runtime's API, the console
 * proxy of `keyheal console`) passes before anything else reads it.
 *
 * - The request target must parse as a path: `GET //[` (what `<img src="http://127.0.0.1:P//[">`
 *   sends) is a 400, never an exception outside the handler.
 * - `Host` must name the loopback address the server listens on, so a page whose DNS name is
 *   rebound to 127.0.0.1 cannot reach it.
 * - A browser request from another origin (`Origin`, `Sec-Fetch-Site`) is refused, so a web page
 *   cannot drive the API with a token it found, nor read the console's answers.
 *
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import { BadRequestError, ForeignRequestError } from "../api/errors.ts";

/** What a loopback server accepts as its own name: `127.0.0.1:PORT`, `localhost:PORT`, … */
export interface LoopbackAddress {
  /** The address the server listens on: `127.0.0.1`, `::1`. */
  address: string;
  port: number;
}

/** The `Host` values that name the server: its address and `localhost`, with its port. */
export function hostNamesOf({ address, port }: LoopbackAddress): string[] {
  const literal = address.includes(":") ? `[${address}]` : address;
  return [`${literal}:${port}`, `localhost:${port}`];
}

/** RFC 3986 origin-form: `/`, then path and query characters, `%` only before two hex digits. */
const ORIGIN_FORM = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/**
 * The request target as a URL, or a 400. Only origin-form (`/path?query`, RFC 3986 characters)
 * is taken: the servers are no proxies, `new URL(target, base)` would read `//[` as a host, and
 * `%`-garbage would fail later in a decode.
 *
 * @throws BadRequestError naming what is wrong with the target.
 */
export function requestUrl(target: string | undefined): URL {
  if (target === undefined || !ORIGIN_FORM.test(target)) {
    throw new BadRequestError(
      "(url)",
      "The request target must be a path such as /devices?status=HEALTHY, with any other character percent-encoded (%XX).",
    );
  }
  return new URL(`http://localhost${target}`);
}

/**
 * Refuses a request not sent to this server by name (`Host`) or sent by a page of another
 * origin. A browser sends `Origin` with every cross-origin request and `Sec-Fetch-Site` with
 * every request; the CLI and curl send neither, a same-origin console call `same-origin`, and an
 * address typed or pasted into the browser `none`.
 *
 * @throws ForeignRequestError saying which header is wrong and where to send the request.
 */
export function assertOwnRequest(headers: IncomingHttpHeaders, server: LoopbackAddress): void {
  const names = hostNamesOf(server);
  const own = `http://${names[0]}`;
  const host = headers.host?.toLowerCase();
  if (host === undefined || !names.includes(host)) {
    throw new ForeignRequestError(
      `Host ${JSON.stringify(headers.host ?? "")} is not this server: send the request to ${own}.`,
    );
  }
  const origin = headers.origin;
  if (origin !== undefined && !names.some((name) => origin.toLowerCase() === `http://${name}`)) {
    throw new ForeignRequestError(
      `Requests from another origin (${JSON.stringify(origin)}) are refused: open ${own}/console/ instead.`,
    );
  }
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new ForeignRequestError(
      `Requests from another site (Sec-Fetch-Site: ${site}) are refused: open ${own}/console/ instead.`,
    );
  }
}
