import { clearToken, readToken } from "../auth.ts";

/** An answer other than 2xx, with the API's own `{ error, message, field? }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The runtime did not answer at all (stopped, restarted on another port, network gone). */
export class ApiUnreachableError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      "The keyheal API did not answer. Check that the runtime is still running (keyheal local start), then reload.",
      options,
    );
    this.name = "ApiUnreachableError";
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the API refuses the token: the console goes back to sign-in. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Query string from the defined, non-empty values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function runPath(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

/**
 * One API call with the session's token. A 401 forgets the token and tells the listeners, so
 * any page returns to sign-in; other errors carry the API's message for an Alert.
 */
export async function api<T>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  token: string | null = readToken(),
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        accept: "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiUnreachableError({ cause: error });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.ok) return parsed as T;
  const problem = (parsed ?? {}) as { error?: string; message?: string; field?: string };
  if (response.status === 401) {
    clearToken();
    for (const listener of unauthorizedListeners) listener();
  }
  throw new ApiError(
    response.status,
    problem.error ?? `HTTP${response.status}`,
    problem.message ?? `The API answered ${response.status} ${response.statusText}.`,
    problem.field,
  );
}

/** The message to show for any error a call threw. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
