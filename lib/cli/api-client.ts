/**
 * The ops HTTP API of DESIGN §6, as the CLI calls it: a bearer token for a local runtime, SigV4
 * signatures for a deployed API, JSON bodies, `{ items, nextCursor }` lists followed cursor by
 * cursor. Errors come back as classes that carry their
 * exit code ({@link ApiError}, {@link RuntimeUnreachableError}, {@link UnexpectedResponseError}).
 *
 * @module
 */
import { type ApiTarget, isSigV4Target } from "./config.ts";
import {
  ApiError,
  CliError,
  EXIT,
  RuntimeUnreachableError,
  UnexpectedResponseError,
} from "./errors.ts";
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
import { createSigner, type SignRequest } from "./sigv4.ts";

export type Query = Readonly<Record<string, string | number | undefined>>;

export interface ApiClientOptions {
  /** Per request; a rotation or a resolve of many devices only starts runs, so this is ample. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Signs calls to a SigV4 target; default: the AWS credential chain (a test seam). */
  signer?: SignRequest;
}

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

export class ApiClient {
  readonly #target: ApiTarget;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #signer: Promise<SignRequest> | undefined;

  constructor(target: ApiTarget, options: ApiClientOptions = {}) {
    this.#target = target;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#fetch = options.fetch ?? fetch;
    if (options.signer) this.#signer = Promise.resolve(options.signer);
  }

  get baseUrl(): string {
    return this.#target.baseUrl;
  }

  /** How calls are authorized: a local runtime's token, or SigV4 to a deployed API. */
  get target(): ApiTarget {
    return this.#target;
  }

  /**
   * One call passed through as it is: `pathAndQuery` after the base URL, a raw body, the answer
   * unread. Authorized like every other call (token or SigV4); for the console proxy.
   */
  async forward(
    method: string,
    pathAndQuery: string,
    options: { body?: string | undefined; contentType?: string | undefined; accept?: string } = {},
  ): Promise<Response> {
    const url = new URL(this.#target.baseUrl + pathAndQuery);
    let headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (options.body !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
    }
    const target = this.#target;
    if (isSigV4Target(target)) {
      this.#signer ??= createSigner(target.sigv4.region, target.baseUrl);
      headers = await (await this.#signer)({ method, url, headers, body: options.body });
    } else {
      headers.authorization = `Bearer ${target.token}`;
    }
    try {
      return await this.#fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw this.#unreachable(error);
    }
  }

  listDevices(filter: { status?: string | undefined }, window: ListWindow = {}) {
    return this.#list("/devices", { status: filter.status }, window, device);
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

  async rotateKeys(body: { type?: string }): Promise<StartedRun> {
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

  /**
   * One call. Resolves to the parsed JSON body, or undefined for an empty one.
   *
   * @throws RuntimeUnreachableError when nothing answers at the URL
   * @throws ApiError for a non-2xx status, with the server's message
   */
  async request(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<unknown> {
    const url = new URL(this.#target.baseUrl + path);
    const pairs = Object.entries(options.query ?? {}).flatMap(([name, value]) =>
      value === undefined ? [] : [`${strictEncode(name)}=${strictEncode(String(value))}`],
    );
    if (pairs.length > 0) url.search = pairs.join("&");
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const target = this.#target;
    if (isSigV4Target(target)) {
      this.#signer ??= createSigner(target.sigv4.region, target.baseUrl);
      headers = await (await this.#signer)({ method, url, headers, body });
    } else {
      headers.authorization = `Bearer ${target.token}`;
    }
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw this.#unreachable(error);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new ApiError(method, path, response.status, this.#detail(response, text));
    }
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UnexpectedResponseError(method, path, "the body is not JSON");
    }
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

  #detail(response: Response, text: string): string {
    let message = response.statusText;
    try {
      const body = JSON.parse(text) as unknown;
      if (isObject(body)) {
        const error = isObject(body.error) ? body.error : body;
        if (typeof error.message === "string") message = error.message;
        else if (typeof body.error === "string") message = body.error;
        const issues = Array.isArray(body.issues) ? body.issues : [];
        const named = issues
          .filter(isObject)
          .map((issue) => `${String(issue.path)}: ${String(issue.problem ?? issue.message)}`);
        if (named.length > 0 && !named.every((each) => message.includes(each))) {
          message = `${message} (${named.join("; ")})`;
        }
      }
    } catch {
      if (text.trim() !== "" && text.length < 300) message = text.trim();
    }
    const target = this.#target;
    if (isSigV4Target(target)) {
      if (response.status === 401 || response.status === 403) {
        return `${message}: ${signedRefusal(response.headers.get("x-amzn-errortype"))}`;
      }
      return message;
    }
    if (response.status === 401 || response.status === 403) {
      const from =
        target.dataDir === undefined ? "KEYHEAL_TOKEN" : `the token in ${target.dataDir}/api-token`;
      return `${message}: the API refused ${from}; was the runtime restarted with another data directory?`;
    }
    return message;
  }

  #unreachable(error: unknown): CliError {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return new CliError(
        `the keyheal API at ${this.#target.baseUrl} did not answer within ${Math.round(this.#timeoutMs / 1000)}s`,
        EXIT.SERVER,
        { cause: error },
      );
    }
    const code = errorCode(error);
    const target = this.#target;
    const start = isSigV4Target(target)
      ? "check KEYHEAL_API (the API's stage URL) and the network path to it"
      : target.dataDir === undefined
        ? "check KEYHEAL_API, or start a local runtime with `keyheal local start`"
        : `is it running? Start it with \`keyheal local start --data-dir ${target.dataDir}\``;
    return new RuntimeUnreachableError(
      `cannot reach the keyheal API at ${this.#target.baseUrl}${code ? ` (${code})` : ""}: ${start}`,
      this.#target.baseUrl,
      { cause: error },
    );
  }
}

/**
 * What to do when a deployed API refuses a signed call, by API Gateway's error type (the
 * `x-amzn-ErrorType` header names the class of refusal).
 */
function signedRefusal(errorType: string | null): string {
  const type = errorType?.split(":")[0]?.trim();
  switch (type) {
    case "ExpiredTokenException":
      return "the AWS credentials have expired: refresh them (`aws sso login --profile NAME` for an IAM Identity Center profile) and retry";
    case "AccessDeniedException":
      return "the AWS identity may not call this API: it needs execute-api:Invoke on it (check AWS_PROFILE)";
    case "MissingAuthenticationTokenException":
      return "the API has no such route or got no signature: is KEYHEAL_API the stage URL (https://ID.execute-api.REGION.amazonaws.com/STAGE)?";
    default:
      return "the API refused the signed call: check the AWS credentials (AWS_PROFILE, `aws sts get-caller-identity`) and that AWS_REGION is the API's region";
  }
}

/** RFC 3986 percent-encoding, as SigV4 canonicalizes a query: the wire and the signature agree. */
function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
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

/** `ECONNREFUSED` and the like, from fetch's `TypeError: fetch failed` and its causes. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth += 1) {
    if (typeof current.code === "string") return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
