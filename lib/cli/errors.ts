/**
 * Errors the CLI turns into an exit code and one message on stderr. The exit code is decided
 * here, by class, once (docs/architecture.md, Contracts):
 *
 * - 0 success;
 * - 1 a run the command started or waited for FAILED;
 * - 2 bad usage or input: an unknown flag, a missing file, an invalid inventory, a request the
 *   API refused (4xx), no runtime to talk to;
 * - 3 the API failed on its side (5xx or an answer that is not the contract);
 * - 4 no usable AWS credentials for a deployed API (a script can run `aws sso login` and retry).
 *
 * Each class also names a stable `code` and, where one input is at fault, the `field` to fix:
 * with `--json` the error is printed as `{ "error": { code, message, field, exitCode } }`.
 *
 * @module
 */

export const EXIT = { OK: 0, RUN_FAILED: 1, USAGE: 2, SERVER: 3, NO_CREDENTIALS: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class: every CLI error carries the exit code it ends the process with. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** A stable name for programs (`USAGE`, `NO_CREDENTIALS`, the API's own code for a 4xx). */
  readonly code: string;
  /** The flag, argument or request field to fix, when one is at fault (`--limit`, `devices[0].port`). */
  readonly field: string | undefined;
  constructor(
    message: string,
    exitCode: ExitCode,
    options?: ErrorOptions & { code?: string; field?: string | undefined },
  ) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = options?.code ?? "ERROR";
    this.field = options?.field;
  }
}

/** The command line is wrong: unknown command or flag, missing or conflicting arguments. */
export class UsageError extends CliError {
  /** The command whose usage line should follow the message (`"failures delete"`). */
  readonly command: string | undefined;
  constructor(message: string, command?: string, field?: string) {
    super(message, EXIT.USAGE, { code: "USAGE", field });
    this.name = "UsageError";
    this.command = command;
  }
}

/** A secret was given on the command line, where shell history and `ps` would keep it. */
export class SecretOnArgvError extends UsageError {
  readonly flag: string;
  constructor(flag: string, instead: string) {
    super(
      `${flag} is refused: keyheal never takes a secret on the command line, where shell history and ps can read it; ${instead}`,
      undefined,
      flag,
    );
    this.name = "SecretOnArgvError";
    this.flag = flag;
  }
}

/** An input file or stdin could not be used: missing, unreadable, invalid. */
export class InputError extends CliError {
  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(message, EXIT.USAGE, { ...options, code: "INVALID_INPUT" });
    this.name = "InputError";
  }
}

/** No API to talk to: nothing discovered, or nothing listening at the discovered URL. */
export class RuntimeUnreachableError extends CliError {
  readonly url: string | undefined;
  constructor(message: string, url?: string, options?: ErrorOptions) {
    super(message, EXIT.USAGE, { ...options, code: "NO_RUNTIME" });
    this.name = "RuntimeUnreachableError";
    this.url = url;
  }
}

/**
 * A deployed API needs SigV4-signed calls and the AWS credential chain gave nothing usable:
 * none configured, an expired SSO session, expired temporary credentials.
 */
export class CredentialsError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.NO_CREDENTIALS, { ...options, code: "NO_CREDENTIALS" });
    this.name = "CredentialsError";
  }
}

/** The API answered with an error status. 4xx is the caller's input (2), 5xx the server's (3). */
export class ApiError extends CliError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  constructor(
    method: string,
    path: string,
    status: number,
    detail: string,
    body: { code?: string | undefined; field?: string | undefined } = {},
  ) {
    super(`${detail} (${method} ${path}: ${status})`, status >= 500 ? EXIT.SERVER : EXIT.USAGE, {
      code: body.code ?? `HTTP_${status}`,
      field: body.field,
    });
    this.name = "ApiError";
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

/** The API answered 2xx with something that is not the contract's shape. */
export class UnexpectedResponseError extends CliError {
  constructor(method: string, path: string, detail: string) {
    super(`${method} ${path}: unexpected answer: ${detail}`, EXIT.SERVER, {
      code: "UNEXPECTED_RESPONSE",
    });
    this.name = "UnexpectedResponseError";
  }
}

/** One or more runs ended FAILED; the results were already printed. */
export class RunFailedError extends CliError {
  readonly runIds: string[];
  constructor(runIds: string[], deviceId?: string) {
    const failures = `keyheal failures list${deviceId ? ` --device ${deviceId}` : ""}`;
    super(
      runIds.length === 1
        ? `run ${runIds[0]} FAILED: see \`keyheal runs show ${runIds[0]}\` and \`${failures}\``
        : `${runIds.length} runs FAILED: see \`keyheal runs show RUN_ID\` and \`${failures}\``,
      EXIT.RUN_FAILED,
      { code: "RUN_FAILED" },
    );
    this.name = "RunFailedError";
    this.runIds = runIds;
  }
}
