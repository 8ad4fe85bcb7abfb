/**
 * The ops API's errors and the one place an error becomes an HTTP status: by class, never by
 * message text. Bodies are `{ error, message, field? }`; a secret never appears in them.
 *
 * @module
 */
import type { ErrorAnswer } from "../contract/api.ts";
import { InvalidEventError } from "../events/errors.ts";
import { KeyError, MissingPassphraseError, WrongPassphraseError } from "../keys/errors.ts";
import {
  CurrentKeyRetireError,
  InvalidArgumentError,
  InvalidCursorError,
  KeyGenerationConflictError,
  NotFoundError,
} from "../store/errors.ts";
import type { SchemaIssue } from "../validation/issues.ts";

/** Base class of the errors the API raises itself. */
export class ApiError extends Error {
  override name = "ApiError";
}

/** The request is malformed: `field` names what to fix (`devices[0].port`, `(body)`, `limit`). */
export class BadRequestError extends ApiError {
  override name = "BadRequestError";
  readonly field: string;
  readonly issues: SchemaIssue[];

  constructor(field: string, message: string, issues?: SchemaIssue[], options?: ErrorOptions) {
    super(message, options);
    this.field = field;
    this.issues = issues ?? [{ path: field, problem: message }];
  }
}

/** No bearer token, or not the runtime's. */
export class UnauthorizedError extends ApiError {
  override name = "UnauthorizedError";

  constructor() {
    super(
      "Missing or wrong bearer token: send Authorization: Bearer <token>, the token in the data directory's api-token file.",
    );
  }
}

/** No route has this path. */
export class RouteNotFoundError extends ApiError {
  override name = "RouteNotFoundError";

  constructor(method: string, path: string) {
    super(`No route ${method} ${path}.`);
  }
}

/** The path exists, not with this method. */
export class MethodNotAllowedError extends ApiError {
  override name = "MethodNotAllowedError";
  readonly allowed: string[];

  constructor(method: string, path: string, allowed: string[]) {
    super(`${method} is not allowed on ${path}; use ${allowed.join(", ")}.`);
    this.allowed = allowed;
  }
}

/** The request body is larger than the API takes. */
export class PayloadTooLargeError extends ApiError {
  override name = "PayloadTooLargeError";

  constructor(limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes.`);
  }
}

/**
 * A request that did not come from this machine's own client: a `Host` other than the loopback
 * address the server answers on (DNS rebinding), or a browser request from another origin.
 */
export class ForeignRequestError extends ApiError {
  override name = "ForeignRequestError";
}

/** What an error answers: status and a body of the contract (lib/contract/api.ts). */
export interface ErrorResponse {
  status: number;
  body: ErrorAnswer;
  headers?: Record<string, string>;
}

/**
 * The HTTP answer to an error, chosen by its class. Anything unexpected is a 500 whose message
 * says only that: the details go to the log, never to the client.
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof BadRequestError) {
    return bad(error.field, error.message, error.issues);
  }
  if (error instanceof InvalidEventError) {
    const issues = error.issues.map((line) => {
      const at = line.indexOf(": ");
      return { path: line.slice(0, at), problem: line.slice(at + 2) };
    });
    return bad(error.fields[0] ?? "(body)", error.message, issues);
  }
  if (error instanceof MissingPassphraseError || error instanceof WrongPassphraseError) {
    return bad("passphrase", error.message);
  }
  if (error instanceof KeyError) return bad("privateKey", error.message);
  if (error instanceof InvalidCursorError) return bad("cursor", error.message);
  if (error instanceof InvalidArgumentError) return bad(error.field, error.message);
  if (error instanceof UnauthorizedError) {
    return {
      status: 401,
      body: { error: "Unauthorized", message: error.message },
      headers: { "www-authenticate": 'Bearer realm="keyheal"' },
    };
  }
  if (error instanceof NotFoundError || error instanceof RouteNotFoundError) {
    return { status: 404, body: { error: "NotFound", message: error.message } };
  }
  if (error instanceof MethodNotAllowedError) {
    return {
      status: 405,
      body: { error: "MethodNotAllowed", message: error.message },
      headers: { allow: error.allowed.join(", ") },
    };
  }
  if (error instanceof ForeignRequestError) {
    return { status: 403, body: { error: "Forbidden", message: error.message } };
  }
  if (error instanceof PayloadTooLargeError) {
    return { status: 413, body: { error: "PayloadTooLarge", message: error.message } };
  }
  if (error instanceof KeyGenerationConflictError || error instanceof CurrentKeyRetireError) {
    return { status: 409, body: { error: "Conflict", message: error.message } };
  }
  return {
    status: 500,
    body: { error: "Internal", message: "Internal error; the runtime's log has the details." },
  };
}

function bad(field: string, message: string, issues?: SchemaIssue[]): ErrorResponse {
  return {
    status: 400,
    body: { error: "BadRequest", message, field, ...(issues ? { issues } : {}) },
  };
}
