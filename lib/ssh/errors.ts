/** Where in a device conversation something went wrong; the cause of a failure depends on it. */
export type Stage =
  | "connect"
  | "handshake"
  | "auth"
  | "read"
  | "write"
  | "verify"
  | "prune"
  | "rollback"
  | "user-create";

/** Base class of every error raised while talking to a device. */
export class SshError extends Error {
  override name = "SshError";
}

export class ConnectTimeoutError extends SshError {
  readonly timeoutMs: number;
  constructor(host: string, port: number, timeoutMs: number) {
    super(
      `TCP connect to ${host}:${port} timed out after ${timeoutMs} ms: check firewalls between keyheal and the device.`,
    );
    this.name = "ConnectTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

export class HandshakeTimeoutError extends SshError {
  readonly timeoutMs: number;
  constructor(host: string, port: number, timeoutMs: number) {
    super(
      `SSH handshake with ${host}:${port} did not finish within ${timeoutMs} ms: the port accepts connections but does not speak SSH in time.`,
    );
    this.name = "HandshakeTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

export class CommandTimeoutError extends SshError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super(`Remote step "${what}" did not finish within ${timeoutMs} ms.`);
    this.name = "CommandTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

export class DeadlineExceededError extends SshError {
  constructor(host: string, options?: ErrorOptions) {
    super(`The overall deadline for ${host} passed before the operation finished.`, options);
    this.name = "DeadlineExceededError";
  }
}

export class HostKeyMismatchError extends SshError {
  readonly expected: string;
  readonly actual: string;
  constructor(host: string, expected: string, actual: string) {
    super(
      `Host key of ${host} is ${actual}, but ${expected} is pinned; no credential was sent. Confirm the device was reinstalled before updating the pin.`,
    );
    this.name = "HostKeyMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

export class HostKeyNotPinnedError extends SshError {
  constructor(host: string) {
    super(
      `Refusing to send a password to ${host}: its host key is not pinned. Give the device's hostKeyFingerprint, or let a key-based check pin it first.`,
    );
    this.name = "HostKeyNotPinnedError";
  }
}

export class AuthRejectedError extends SshError {
  readonly username: string;
  readonly tried: string[];
  /** The host key the refusing server presented (verified or pinned on this contact). */
  hostKeyFingerprint: string | undefined;
  constructor(host: string, username: string, tried: string[], options?: ErrorOptions) {
    super(
      `${host} accepted none of the credentials offered for ${username} (${tried.join(", ") || "none"}).`,
      options,
    );
    this.name = "AuthRejectedError";
    this.username = username;
    this.tried = tried;
  }
}

export class ConnectionLostError extends SshError {
  constructor(host: string, options?: ErrorOptions) {
    super(`The connection to ${host} was lost mid-operation.`, options);
    this.name = "ConnectionLostError";
  }
}

/** A transport-level failure before the session was ready (refused, unreachable, protocol). */
export class ConnectFailedError extends SshError {
  readonly code: string | undefined;
  constructor(host: string, port: number, code: string | undefined, options?: ErrorOptions) {
    super(`Could not connect to ${host}:${port}${code ? ` (${code})` : ""}.`, options);
    this.name = "ConnectFailedError";
    this.code = code;
  }
}

export class HandshakeFailedError extends SshError {
  constructor(host: string, options?: ErrorOptions) {
    super(
      `SSH handshake with ${host} failed: no common algorithm, or the peer is not an SSH server.`,
      options,
    );
    this.name = "HandshakeFailedError";
  }
}

/** A device sent more output than a step may read; reading stopped at the cap. */
export class OutputTooLargeError extends SshError {
  readonly limitBytes: number;
  constructor(host: string, what: string, limitBytes: number) {
    super(
      `${host} sent more than ${limitBytes} bytes for "${what}"; keyheal stopped reading and changed nothing. Check the file's size (authorized_keys larger than the limit) or what the login prints.`,
    );
    this.name = "OutputTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/**
 * The device answered outside keyheal's framing: a forced `command=` on the key, a restricted
 * shell, or a login that runs something else than the command sent.
 */
export class RemoteProtocolError extends SshError {
  /** The first bytes the device printed instead, with control characters removed. */
  readonly detail: string;
  constructor(host: string, message: string, detail: string, options?: ErrorOptions) {
    super(`${host}: ${message}${detail ? ` (device printed: ${detail})` : ""}`, options);
    this.name = "RemoteProtocolError";
    this.detail = detail;
  }
}

/** sudo did not give a root shell: it refused the password, needs one, or needs a tty. */
export class SudoFailedError extends SshError {
  readonly reason: "password-refused" | "password-needed" | "refused";
  readonly detail: string;
  constructor(
    host: string,
    reason: "password-refused" | "password-needed" | "refused",
    detail: string,
  ) {
    const what = {
      "password-refused": "sudo refused the password given",
      "password-needed": "sudo asks for a password and none was given",
      refused: "sudo did not run the command",
    }[reason];
    super(
      `${host}: ${what}; nothing was changed. Check that the login user may sudo (sudo -l), without requiretty, then retry.${detail ? ` (sudo said: ${detail})` : ""}`,
    );
    this.name = "SudoFailedError";
    this.reason = reason;
    this.detail = detail;
  }
}

/** Keeps what a device printed safe to log: no control characters or escapes, bounded. */
export function printable(bytes: Buffer | string, max = 300): string {
  const text = typeof bytes === "string" ? bytes : bytes.toString("utf8");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e]+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
