/**
 * The ops API of docs/architecture.md, Contracts as a table: method and path template → use case. Transport-free, so
 * the local runtime's HTTP server and an API Gateway handler dispatch the same way; each maps
 * errors to statuses through {@link errorResponse}.
 *
 * @module
 */
import { errorResponse, MethodNotAllowedError, RouteNotFoundError } from "./errors.ts";
import { deviceStats, listDevices, registerDevices } from "./handlers/devices.ts";
import { postEvent } from "./handlers/events.ts";
import {
  deleteFailure,
  deleteFailures,
  failureStats,
  getFailure,
  listFailures,
} from "./handlers/failures.ts";
import { getJob } from "./handlers/jobs.ts";
import { importKey, listKeys, rotateKey } from "./handlers/keys.ts";
import { resolveDevices } from "./handlers/resolve-devices.ts";
import { retryFailure } from "./handlers/retry-failure.ts";
import { getRun } from "./handlers/runs.ts";
import type { ApiContext, ApiHandler, ApiRequest, ApiResponse } from "./types.ts";

export type HttpMethod = "GET" | "POST" | "DELETE";

export interface Route {
  method: HttpMethod;
  /** `/failures/{id}/retry`: `{name}` matches one path segment. */
  path: string;
  handler: ApiHandler;
}

export const ROUTES: readonly Route[] = [
  { method: "POST", path: "/events", handler: postEvent },
  { method: "GET", path: "/devices", handler: listDevices },
  { method: "POST", path: "/devices", handler: registerDevices },
  { method: "GET", path: "/devices/stats", handler: deviceStats },
  { method: "POST", path: "/devices/resolve", handler: resolveDevices },
  { method: "GET", path: "/keys", handler: listKeys },
  { method: "POST", path: "/keys/import", handler: importKey },
  { method: "POST", path: "/keys/rotate", handler: rotateKey },
  { method: "GET", path: "/failures", handler: listFailures },
  { method: "DELETE", path: "/failures", handler: deleteFailures },
  { method: "GET", path: "/failures/stats", handler: failureStats },
  { method: "GET", path: "/failures/{id}", handler: getFailure },
  { method: "DELETE", path: "/failures/{id}", handler: deleteFailure },
  { method: "POST", path: "/failures/{id}/retry", handler: retryFailure },
  { method: "GET", path: "/runs/{id}", handler: getRun },
  { method: "GET", path: "/jobs/{id}", handler: getJob },
];

interface Compiled extends Route {
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): Compiled {
  const names: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

export interface MatchedRoute {
  route: Route;
  params: Record<string, string>;
}

/** A router over `routes`; {@link ROUTES} unless told otherwise. */
export function createRouter(routes: readonly Route[] = ROUTES) {
  const compiled = routes.map(compile);
  return {
    /**
     * @throws RouteNotFoundError when no route has the path (or a parameter is not valid
     *   percent-encoding); MethodNotAllowedError when the path exists with other methods.
     */
    match(method: string, path: string): MatchedRoute {
      const allowed: string[] = [];
      for (const route of compiled) {
        const m = route.pattern.exec(path);
        if (!m) continue;
        if (route.method !== method) {
          allowed.push(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        try {
          route.names.forEach((name, i) => {
            params[name] = decodeURIComponent(m[i + 1] ?? "");
          });
        } catch {
          throw new RouteNotFoundError(method, path);
        }
        return { route, params };
      }
      if (allowed.length > 0) throw new MethodNotAllowedError(method, path, allowed);
      throw new RouteNotFoundError(method, path);
    },
  };
}

export type Router = ReturnType<typeof createRouter>;

/** One request in, one response out; every error becomes its status here. */
export async function dispatch(
  ctx: ApiContext,
  router: Router,
  method: string,
  path: string,
  request: Omit<ApiRequest, "params">,
): Promise<ApiResponse> {
  try {
    const { route, params } = router.match(method, path);
    return await route.handler(ctx, { ...request, params });
  } catch (error) {
    const response = errorResponse(error);
    if (response.status >= 500) {
      ctx.deps.logger.error("request failed", { method, path, error: error as Error });
    }
    return response;
  }
}
