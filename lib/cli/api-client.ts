/**
 * The ops HTTP API of docs/architecture.md, Contracts, as the CLI calls it: one method per call of the contract, JSON
 * answers checked for their shape, `{ items, nextCursor }` lists followed cursor by cursor. How
 * calls are authorized and sent is in `api-transport.ts`.
 *
 * @module
 */
import type {
  AnswerOf,
  DeviceView,
  EventAnswer,
  FailureStatsView,
  FailuresDeleted,
  FailureView,
  JobView,
  KeyView,
  PageView,
  ResolveStarted,
  RouteKey,
  RunStarted,
  RunView,
} from "../contract/api.ts";
import type { ImportKeyRequest, ResolveRequest, RotateRequest } from "../contract/requests.ts";
import { ApiTransport, type Query } from "./api-transport.ts";
import { UnexpectedResponseError } from "./errors.ts";

export type { ApiClientOptions, Query } from "./api-transport.ts";
export type { ResolveRequest, ResolveStarted, RunStarted as StartedRun };

/**
 * A device to resolve as the command line or a devices file gives it: its own admin user, and
 * its own credential where it has one; the request keeps the fields of its mode.
 */
export interface ResolveTarget {
  id: string;
  adminUser: string;
  loginUser?: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface FailureFilter {
  deviceId?: string | undefined;
  cause?: string | undefined;
  operation?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** One round of `DELETE /failures` with a `limit`: `more` when matches remain. */
export type DeletedPage = FailuresDeleted;

/** How much of a list to fetch: everything (the default), or at most `limit` from `cursor`. */
export interface ListWindow {
  limit?: number | undefined;
  cursor?: string | undefined;
}

const PAGE_SIZE = 100;

/**
 * The contract's schemas and the issue formatter, loaded with the first answer (the module
 * cache keeps them): `--help` and usage errors never load zod.
 */
const schemas = () =>
  Promise.all([import("../contract/api.ts"), import("../validation/issues.ts")]);

/**
 * Every answer is parsed by its route's schema of lib/contract/api.ts, the same the API is
 * tested against; an answer that is not the contract is an UnexpectedResponseError (exit 3)
 * naming the fields that are off.
 */
export class ApiClient extends ApiTransport {
  listDevices(
    filter: { status?: string | undefined; search?: string | undefined },
    window: ListWindow = {},
  ): Promise<PageView<DeviceView>> {
    return this.#list(
      "GET /devices",
      "/devices",
      { status: filter.status, q: filter.search },
      window,
    );
  }

  async importDevices(devices: readonly object[]): Promise<AnswerOf<"POST /devices">> {
    return this.#call("POST /devices", "/devices", { body: { devices } });
  }

  listKeys(window: ListWindow = {}): Promise<PageView<KeyView>> {
    return this.#list<KeyView>("GET /keys", "/keys", {}, window);
  }

  importKey(body: ImportKeyRequest): Promise<KeyView> {
    return this.#call("POST /keys/import", "/keys/import", { body });
  }

  rotateKeys(body: RotateRequest): Promise<RunStarted> {
    return this.#call("POST /keys/rotate", "/keys/rotate", { body });
  }

  /** `POST /events`: the intake's answer; `runId` when a run was started (or already was). */
  postEvent(event: object): Promise<EventAnswer> {
    return this.#call("POST /events", "/events", { body: event });
  }

  resolve(body: ResolveRequest): Promise<ResolveStarted> {
    return this.#call("POST /devices/resolve", "/devices/resolve", { body });
  }

  getJob(id: string): Promise<JobView> {
    return this.#call("GET /jobs/{id}", `/jobs/${encodeURIComponent(id)}`);
  }

  listFailures(filter: FailureFilter, window: ListWindow = {}): Promise<PageView<FailureView>> {
    return this.#list<FailureView>("GET /failures", "/failures", { ...filter }, window);
  }

  getFailure(id: string): Promise<FailureView> {
    return this.#call("GET /failures/{id}", `/failures/${encodeURIComponent(id)}`);
  }

  deleteFailure(id: string): Promise<{ deleted: number }> {
    return this.#call("DELETE /failures/{id}", `/failures/${encodeURIComponent(id)}`);
  }

  /**
   * Deletes the matching records: all of them, or at most `limit` (then `more` says whether
   * matches remain, so a caller can loop and show progress).
   */
  deleteFailures(filter: FailureFilter, limit?: number): Promise<DeletedPage> {
    return this.#call("DELETE /failures", "/failures", { query: { ...filter, limit } });
  }

  /** `GET /failures/stats`: counts by cause over `since` (all time without it). */
  failureStats(filter: {
    deviceId?: string | undefined;
    since?: string | undefined;
    until?: string | undefined;
  }): Promise<FailureStatsView> {
    return this.#call("GET /failures/stats", "/failures/stats", { query: { ...filter } });
  }

  retryFailure(id: string): Promise<RunStarted> {
    const path = `/failures/${encodeURIComponent(id)}/retry`;
    return this.#call("POST /failures/{id}/retry", path, { body: {} });
  }

  getRun(id: string): Promise<RunView> {
    return this.#call("GET /runs/{id}", `/runs/${encodeURIComponent(id)}`);
  }

  /** Sends the request of `route` to `path` and parses its answer by the route's schema. */
  async #call<R extends RouteKey>(
    route: R,
    path: string,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<AnswerOf<R>> {
    const method = route.slice(0, route.indexOf(" "));
    const answer = await this.request(method, path, options);
    const [{ ANSWERS }, { describeIssues, issuesOf }] = await schemas();
    const parsed = ANSWERS[route].body.safeParse(answer);
    if (!parsed.success) {
      const detail = describeIssues(issuesOf(parsed.error, "(answer)").slice(0, 3));
      throw new UnexpectedResponseError(method, path, `not the contract: ${detail}`);
    }
    return parsed.data as AnswerOf<R>;
  }

  /** Follows `nextCursor` until the last page, or until `window.limit` items. */
  async #list<T>(
    route: "GET /devices" | "GET /keys" | "GET /failures",
    path: string,
    filter: Query,
    window: ListWindow,
  ): Promise<PageView<T>> {
    const items: T[] = [];
    let cursor = window.cursor;
    for (;;) {
      const wanted = window.limit === undefined ? PAGE_SIZE : window.limit - items.length;
      const page = (await this.#call(route, path, {
        query: { ...filter, limit: Math.min(PAGE_SIZE, wanted), cursor },
      })) as PageView<T>;
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      if (cursor === undefined || cursor === "") return { items, nextCursor: null };
      if (window.limit !== undefined && items.length >= window.limit) {
        return { items: items.slice(0, window.limit), nextCursor: cursor };
      }
    }
  }
}
