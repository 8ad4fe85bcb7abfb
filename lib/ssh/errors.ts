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
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SshError";
  }
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
