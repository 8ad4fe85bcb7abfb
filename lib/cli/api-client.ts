/**
 * The ops HTTP API of docs/architecture.md, Contracts, as the CLI calls it: one method per call of the contract, JSON
 * answers checked for their shape, `{ items, nextCursor }` lists followed cursor by cursor. How
 * calls are authorized and sent is in `api-transport.ts`.
 *
 * @module
 */
import { ApiTransport, isObject, type Query } from "./api-transport.ts";
import { UnexpectedResponseError } from "./errors.ts";
import {
  type DeviceView,
  device,
  type FailureStatsView,
  type FailureView,
  failure,
  type JobView,
  job,
  type KeyView,
  key,
  type PageView,
  type RunView,
  run,
} from "./shapes.ts";

export type { ApiClientOptions, Query } from "./api-transport.ts";

/** What starting one run answers. */
export interface StartedRun {
  runId: string;
}

/** `POST /devices/resolve`: one run per device, tracked as one job (`jobId` from newer APIs). */
export interface ResolveStarted {
  jobId?: string;
  runs: { deviceId: string; runId: string }[];
}

export interface ResolveRequest {
  mode: "space-key" | "custom-key";
  /** Each device's own admin user, and its own credential where it has one. */
  devices: {
    id: string;
    adminUser: string;
    loginUser?: string;
    password?: string;
    privateKey?: string;
    passphrase?: string;
  }[];
  /** For the devices without their own. */
  password?: string;
  privateKey?: string;
  passphrase?: string;
  adopt?: boolean;
}

export interface FailureFilter {
  deviceId?: string | undefined;
  cause?: string | undefined;
  operation?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** One round of `DELETE /failures` with a `limit`: `more` when matches remain. */
export interface DeletedPage {
  deleted: number;
  more: boolean;
}

/** How much of a list to fetch: everything (the default), or at most `limit` from `cursor`. */
export interface ListWindow {
  limit?: number | undefined;
  cursor?: string | undefined;
}

const PAGE_SIZE = 100;

export class ApiClient extends ApiTransport {
  listDevices(
    filter: { status?: string | undefined; search?: string | undefined },
    window: ListWindow = {},
  ) {
    return this.#list("/devices", { status: filter.status, q: filter.search }, window, device);
  }

  async importDevices(devices: readonly object[]): Promise<PageView<DeviceView>> {
    const answer = await this.request("POST", "/devices", { body: { devices } });
    const items = itemsOf(answer, "devices");
    if (!items) throw new UnexpectedResponseError("POST", "/devices", "no items list");
    return { items: items.map(device), nextCursor: null };
  }

  listKeys(window: ListWindow = {}) {
    return this.#list("/keys", {}, window, key);
  }

  async importKey(body: { privateKey: string; passphrase?: string }): Promise<KeyView> {
    const answer = await this.request("POST", "/keys/import", { body });
    // Either the key itself or `{ key }`.
    const record = isObject(answer) && isObject(answer.key) ? answer.key : answer;
    if (!isObject(record) || typeof record.fingerprint !== "string") {
      throw new UnexpectedResponseError("POST", "/keys/import", "no key in the answer");
    }
    return key(record);
  }

  async rotateKeys(body: {
    type?: string;
    concurrency?: number;
    canary?: number;
  }): Promise<StartedRun> {
    return this.#started("POST", "/keys/rotate", body);
  }

  /** `POST /events`: the intake's answer; `runId` when a run was started (or already was). */
  async postEvent(event: object): Promise<Record<string, unknown>> {
    const answer = await this.request("POST", "/events", { body: event });
    if (!isObject(answer)) throw new UnexpectedResponseError("POST", "/events", "not an object");
    return answer;
  }

  async resolve(body: ResolveRequest): Promise<ResolveStarted> {
    const answer = await this.request("POST", "/devices/resolve", { body });
    const runs = isObject(answer) ? answer.runs : undefined;
    if (
      !Array.isArray(runs) ||
      !runs.every((each) => isObject(each) && typeof each.runId === "string")
    ) {
      throw new UnexpectedResponseError("POST", "/devices/resolve", "no runs list");
    }
    const jobId = isObject(answer) && typeof answer.jobId === "string" ? answer.jobId : undefined;
    return { ...(jobId === undefined ? {} : { jobId }), runs: runs as ResolveStarted["runs"] };
  }

  async getJob(id: string): Promise<JobView> {
    const path = `/jobs/${encodeURIComponent(id)}`;
    const answer = await this.request("GET", path);
    if (!isObject(answer) || typeof answer.status !== "string" || !Array.isArray(answer.runs)) {
      throw new UnexpectedResponseError("GET", path, "no job status and runs");
    }
    return job(answer);
  }

  listFailures(filter: FailureFilter, window: ListWindow = {}) {
    return this.#list("/failures", { ...filter }, window, failure);
  }

  async getFailure(id: string): Promise<FailureView> {
    return failure(await this.request("GET", `/failures/${encodeURIComponent(id)}`));
  }

  async deleteFailure(id: string): Promise<{ deleted: number }> {
    const answer = await this.request("DELETE", `/failures/${encodeURIComponent(id)}`);
    // 204 No Content is a success too: the one record is gone.
    return { deleted: deletedOf(answer) ?? 1 };
  }

  /**
   * Deletes the matching records: all of them, or at most `limit` (then `more` says whether
   * matches remain, so a caller can loop and show progress).
   */
  async deleteFailures(filter: FailureFilter, limit?: number): Promise<DeletedPage> {
    const answer = await this.request("DELETE", "/failures", { query: { ...filter, limit } });
    const deleted = deletedOf(answer);
    if (deleted === undefined) {
      throw new UnexpectedResponseError("DELETE", "/failures", "no deleted count");
    }
    // An API that ignores `limit` deleted every match: nothing remains.
    return { deleted, more: isObject(answer) && answer.more === true };
  }

  /** `GET /failures/stats`: counts by cause over `since` (all time without it). */
  async failureStats(filter: {
    deviceId?: string | undefined;
    since?: string | undefined;
    until?: string | undefined;
  }): Promise<FailureStatsView> {
    const answer = await this.request("GET", "/failures/stats", { query: { ...filter } });
    if (!isObject(answer) || typeof answer.total !== "number" || !Array.isArray(answer.items)) {
      throw new UnexpectedResponseError("GET", "/failures/stats", "no total and items");
    }
    return answer as unknown as FailureStatsView;
  }

  async retryFailure(id: string): Promise<StartedRun> {
    return this.#started("POST", `/failures/${encodeURIComponent(id)}/retry`, {});
  }

  async getRun(id: string): Promise<RunView> {
    const answer = await this.request("GET", `/runs/${encodeURIComponent(id)}`);
    if (!isObject(answer) || typeof answer.status !== "string") {
      throw new UnexpectedResponseError("GET", `/runs/${id}`, "no run status");
    }
    return run(answer);
  }

  async #started(method: string, path: string, body: object): Promise<StartedRun> {
    const answer = await this.request(method, path, { body });
    if (!isObject(answer) || typeof answer.runId !== "string") {
      throw new UnexpectedResponseError(method, path, "no runId");
    }
    return { runId: answer.runId };
  }

  /** Follows `nextCursor` until the last page, or until `window.limit` items. */
  async #list<T>(
    path: string,
    filter: Query,
    window: ListWindow,
    shape: (value: unknown) => T,
  ): Promise<PageView<T>> {
    const items: T[] = [];
    let cursor = window.cursor;
    for (;;) {
      const wanted = window.limit === undefined ? PAGE_SIZE : window.limit - items.length;
      const answer = await this.request("GET", path, {
        query: { ...filter, limit: Math.min(PAGE_SIZE, wanted), cursor },
      });
      const page = itemsOf(answer, "items");
      if (!page) throw new UnexpectedResponseError("GET", path, "no items list");
      items.push(...page.map(shape));
      const next = isObject(answer) ? answer.nextCursor : undefined;
      cursor = typeof next === "string" && next !== "" ? next : undefined;
      if (cursor === undefined) return { items, nextCursor: null };
      if (window.limit !== undefined && items.length >= window.limit) {
        return { items: items.slice(0, window.limit), nextCursor: cursor };
      }
    }
  }
}

function itemsOf(answer: unknown, alternative: string): unknown[] | undefined {
  if (Array.isArray(answer)) return answer;
  if (!isObject(answer)) return undefined;
  const items = answer.items ?? answer[alternative];
  return Array.isArray(items) ? items : undefined;
}

function deletedOf(answer: unknown): number | undefined {
  return isObject(answer) && typeof answer.deleted === "number" ? answer.deleted : undefined;
}
