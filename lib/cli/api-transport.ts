/**
 * How the CLI reaches the ops API: a bearer token for a local runtime, SigV4 signatures for a
 * deployed API, timeouts, and the errors that carry their exit code ({@link ApiError},
 * {@link RuntimeUnreachableError}, {@link UnexpectedResponseError}). The calls of the contract
 * are in `api-client.ts`.
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
import { createSigner, type SignRequest } from "./sigv4.ts";

export type Query = Readonly<Record<string, string | number | undefined>>;

export interface ApiClientOptions {
  /** Per request; a rotation or a resolve of many devices only starts runs, so this is ample. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Signs calls to a SigV4 target; default: the AWS credential chain (a test seam). */
  signer?: SignRequest;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export class ApiTransport {
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
    const response = await this.#send(method, url, {
      body,
      contentType: body === undefined ? undefined : "application/json",
      accept: "application/json",
    });
    const text = await response.text();
    if (!response.ok) {
      throw new ApiError(
        method,
        path,
        response.status,
        this.#detail(response, text),
        errorFields(text),
      );
    }
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UnexpectedResponseError(method, path, "the body is not JSON");
    }
  }

  /**
   * One call passed through as it is: `pathAndQuery` after the base URL, a raw body, the answer
   * unread and redirects not followed. Authorized like every other call; for the console proxy.
   */
  forward(
    method: string,
    pathAndQuery: string,
    options: { body?: string | undefined; contentType?: string | undefined; accept?: string } = {},
  ): Promise<Response> {
    return this.#send(method, new URL(this.#target.baseUrl + pathAndQuery), {
      body: options.body,
      contentType:
        options.body === undefined ? undefined : (options.contentType ?? "application/json"),
      accept: options.accept ?? "application/json",
      redirect: "manual",
    });
  }

  /** Authorizes (bearer token or SigV4 signature) and sends one request. */
  async #send(
    method: string,
    url: URL,
    options: {
      body: string | undefined;
      contentType: string | undefined;
      accept: string;
      redirect?: "follow" | "manual";
    },
  ): Promise<Response> {
    const { body } = options;
    let headers: Record<string, string> = { accept: options.accept };
    if (options.contentType !== undefined) headers["content-type"] = options.contentType;
    const target = this.#target;
    if (isSigV4Target(target)) {
      this.#signer ??= createSigner(target.sigv4.region, target.baseUrl);
      headers = await (await this.#signer)({ method, url, headers, body });
    } else {
      headers.authorization = `Bearer ${target.token}`;
    }
    try {
      return await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(options.redirect === undefined ? {} : { redirect: options.redirect }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw this.#unreachable(error);
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

/** `ECONNREFUSED` and the like, from fetch's `TypeError: fetch failed` and its causes. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth += 1) {
    if (typeof current.code === "string") return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The API's `{ error, field }` of an error body (lib/api/errors.ts), when it has them. */
function errorFields(text: string): { code?: string; field?: string } {
  try {
    const body = JSON.parse(text) as unknown;
    if (!isObject(body)) return {};
    return {
      ...(typeof body.error === "string" ? { code: body.error } : {}),
      ...(typeof body.field === "string" ? { field: body.field } : {}),
    };
  } catch {
    return {};
  }
}
