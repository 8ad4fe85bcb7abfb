import { type Socket, connect as tcpConnect } from "node:net";
import type { AuthenticationType, Client, ClientChannel, ConnectConfig } from "ssh2";
import SshClient from "ssh2/lib/client.js";
import { fingerprintOf } from "../keys/fingerprint.ts";
import { parsedKeys } from "../keys/parsed-key-cache.ts";
import { ALGORITHMS } from "./algorithms.ts";
import {
  AuthRejectedError,
  CommandTimeoutError,
  ConnectFailedError,
  ConnectionLostError,
  ConnectTimeoutError,
  DeadlineExceededError,
  HandshakeFailedError,
  HandshakeTimeoutError,
  HostKeyMismatchError,
  HostKeyNotPinnedError,
  OutputTooLargeError,
} from "./errors.ts";

/** A credential to offer, in the order given. Never logged: only `label` and `fingerprint` are. */
export type Credential =
  | { kind: "publickey"; label: string; fingerprint: string; privateKey: string }
  | { kind: "password"; label: string; password: string };

export interface SshTimeouts {
  /** TCP connect. */
  connectMs: number;
  /** SSH version exchange, key exchange and authentication. */
  handshakeMs: number;
  /** Each remote command. */
  commandMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/** What one remote step may print before keyheal stops reading (docs/security.md). */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

export const DEFAULT_TIMEOUTS: SshTimeouts = {
  connectMs: 5_000,
  handshakeMs: 15_000,
  commandMs: 20_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
};

export interface SessionTarget {
  host: string;
  port: number;
  username: string;
  /** Pinned host-key fingerprint ("SHA256:…"). Without one, the key seen is pinned on first contact. */
  hostKeyFingerprint?: string | undefined;
}

export interface OpenSessionOptions extends SessionTarget {
  /** Tried in this order on one connection; ssh2's own default order is never used. */
  credentials: Credential[];
  timeouts?: Partial<SshTimeouts>;
  /** Overall deadline: aborting destroys the connection. */
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** SHA256 fingerprint of an SSH public-key blob, as `ssh-keygen -l` prints it. */
export const sha256Fingerprint = fingerprintOf;

/** An authenticated SSH connection to one device. */
export class SshSession {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The host key seen on this connection, verified or freshly pinned. */
  readonly hostKeyFingerprint: string;
  /** True when no fingerprint was pinned before this connection. */
  readonly pinnedOnFirstContact: boolean;
  /** Which credential the device accepted (index into the list given). */
  readonly credentialIndex: number;
  readonly credentialLabel: string;
  #client: Client;
  #socket: Socket;
  #timeouts: SshTimeouts;
  #closed = false;
  #closeListeners = new Set<(err: Error) => void>();

  constructor(init: {
    target: SessionTarget;
    client: Client;
    socket: Socket;
    timeouts: SshTimeouts;
    hostKeyFingerprint: string;
    credentialIndex: number;
    credentialLabel: string;
  }) {
    this.host = init.target.host;
    this.port = init.target.port;
    this.username = init.target.username;
    this.hostKeyFingerprint = init.hostKeyFingerprint;
    this.pinnedOnFirstContact = !init.target.hostKeyFingerprint;
    this.credentialIndex = init.credentialIndex;
    this.credentialLabel = init.credentialLabel;
    this.#client = init.client;
    this.#socket = init.socket;
    this.#timeouts = init.timeouts;
    const onGone = () => {
      this.#closed = true;
      const err = new ConnectionLostError(this.host);
      for (const listener of this.#closeListeners) listener(err);
      this.#closeListeners.clear();
    };
    init.client.on("close", onGone);
    init.client.on("error", () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  get commandTimeoutMs(): number {
    return this.#timeouts.commandMs;
  }

  /**
   * Calls `listener` once if the connection goes away; returns the function that unsubscribes.
   * Already closed: called at once.
   */
  onLost(listener: (err: Error) => void): () => void {
    if (this.#closed) {
      listener(new ConnectionLostError(this.host));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Opens one exec channel for a conversation of its own (see remote-shell.ts). */
  openChannel(command: string, what = "shell"): Promise<ClientChannel> {
    return new Promise<ClientChannel>((resolve, reject) => {
      if (this.#closed) {
        reject(new ConnectionLostError(this.host));
        return;
      }
      let settled = false;
      const settle = (err: Error | undefined, stream?: ClientChannel) => {
        if (settled) {
          stream?.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.#closeListeners.delete(onLost);
        if (err) reject(err);
        else resolve(stream as ClientChannel);
      };
      const onLost = (err: Error) => settle(err);
      this.#closeListeners.add(onLost);
      // A server that never answers the channel request must not hold the run forever.
      const timer = setTimeout(
        () => settle(new CommandTimeoutError(what, this.#timeouts.commandMs)),
        this.#timeouts.commandMs,
      );
      this.#client.exec(command, (err, stream) => {
        settle(err ? new ConnectionLostError(this.host, { cause: err }) : undefined, stream);
      });
    });
  }

  /**
   * Runs one command. The command text is fixed by keyheal; data travels on stdin, never in argv.
   * Resolves with the exit code; rejects on timeout, a lost connection, or more output than
   * `maxOutputBytes` (stdout and stderr together), when reading stops and the channel is closed.
   */
  exec(
    command: string,
    options: { stdin?: Buffer; timeoutMs?: number; what?: string; maxOutputBytes?: number } = {},
  ): Promise<ExecResult> {
    const maxOutput = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    const timeoutMs = options.timeoutMs ?? this.#timeouts.commandMs;
    const what = options.what ?? "command";
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.#closed) {
        reject(new ConnectionLostError(this.host));
        return;
      }
      let settled = false;
      let channel: ClientChannel | undefined;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let received = 0;
      let exitCode: number | undefined;
      const finish = (err: Error | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#closeListeners.delete(onLost);
        if (err) {
          channel?.destroy();
          reject(err);
        } else if (result) resolve(result);
      };
      const onLost = (err: Error) => finish(err);
      this.#closeListeners.add(onLost);
      const timer = setTimeout(() => finish(new CommandTimeoutError(what, timeoutMs)), timeoutMs);
      this.#client.exec(command, (err, stream) => {
        if (err) {
          finish(new ConnectionLostError(this.host, { cause: err }));
          return;
        }
        channel = stream;
        const take = (into: Buffer[]) => (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxOutput) {
            finish(new OutputTooLargeError(this.host, what, maxOutput));
            return;
          }
          into.push(chunk);
        };
        stream.on("data", take(stdout));
        stream.stderr.on("data", take(stderr));
        stream.on("exit", (code: number | null) => {
          exitCode = code ?? -1;
        });
        stream.on("close", () => {
          if (exitCode === undefined) {
            finish(new ConnectionLostError(this.host));
            return;
          }
          finish(undefined, {
            code: exitCode,
            stdout: Buffer.concat(stdout),
            stderr: Buffer.concat(stderr),
          });
        });
        stream.end(options.stdin ?? Buffer.alloc(0));
      });
    });
  }

  /** Ends the connection politely. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.end();
  }

  /** Cuts the connection at once, as a crash or a network fault would. */
  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
    this.#client.destroy();
  }
}

function openTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal) {
  return new Promise<Socket>((resolve, reject) => {
    const socket = tcpConnect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectTimeoutError(host, port, timeoutMs));
    }, timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new DeadlineExceededError(host, { cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(new ConnectFailedError(host, port, err.code, { cause: err }));
    });
  });
}

/**
 * Opens one SSH connection and authenticates with the first credential the device accepts.
 *
 * The host key is checked before any credential is sent: against the pinned fingerprint when
 * there is one, otherwise it is pinned on this first contact. A password is never offered to a
 * host whose key was not pinned beforehand.
 */
export async function openSession(options: OpenSessionOptions): Promise<SshSession> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const { host, port, username } = options;
  const pinned = options.hostKeyFingerprint;
  if (!pinned && options.credentials.some((c) => c.kind === "password")) {
    throw new HostKeyNotPinnedError(host);
  }
  if (options.signal?.aborted) throw new DeadlineExceededError(host);

  const socket = await openTcp(host, port, timeouts.connectMs, options.signal);
  const client = new SshClient();
  let seenFingerprint: string | undefined;
  let mismatch: HostKeyMismatchError | undefined;
  let attempt = -1;
  const tried: string[] = [];

  return new Promise<SshSession>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      client.destroy();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(new DeadlineExceededError(host, { cause: options.signal?.reason }));
    options.signal?.addEventListener("abort", onAbort, { once: true });

    client.on("ready", () => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      const credential = options.credentials[attempt];
      resolve(
        new SshSession({
          target: options,
          client,
          socket,
          timeouts,
          // biome-ignore lint/style/noNonNullAssertion: the host verifier ran before "ready"
          hostKeyFingerprint: seenFingerprint!,
          credentialIndex: attempt,
          credentialLabel: credential?.label ?? "",
        }),
      );
    });
    client.on("error", (err: Error & { level?: string }) => {
      if (mismatch) return fail(mismatch);
      switch (err.level) {
        case "client-timeout":
          return fail(new HandshakeTimeoutError(host, port, timeouts.handshakeMs));
        case "client-authentication": {
          const refused = new AuthRejectedError(host, username, tried, { cause: err });
          refused.hostKeyFingerprint = seenFingerprint;
          return fail(refused);
        }
        case "client-socket":
          return fail(new ConnectionLostError(host, { cause: err }));
        default:
          return fail(new HandshakeFailedError(host, { cause: err }));
      }
    });
    client.on("close", () => {
      fail(mismatch ?? new ConnectionLostError(host));
    });

    const config: ConnectConfig = {
      sock: socket,
      username,
      readyTimeout: timeouts.handshakeMs,
      keepaliveInterval: timeouts.keepaliveIntervalMs,
      keepaliveCountMax: timeouts.keepaliveCountMax,
      algorithms: ALGORITHMS as unknown as ConnectConfig["algorithms"],
      hostVerifier: (key: Buffer) => {
        seenFingerprint = sha256Fingerprint(key);
        if (pinned && pinned !== seenFingerprint) {
          mismatch = new HostKeyMismatchError(host, pinned, seenFingerprint);
          return false;
        }
        return true;
      },
      authHandler: (methodsLeft, _partialSuccess, next) => {
        attempt += 1;
        const credential = options.credentials[attempt];
        if (!credential) return next(false as unknown as AuthenticationType);
        tried.push(credential.label);
        if (credential.kind === "publickey") {
          // Parsed once per key, not at every connection (lib/keys/parsed-key-cache.ts).
          let key: unknown;
          try {
            key = parsedKeys.get(credential.fingerprint, credential.privateKey);
          } catch (error) {
            fail(error as Error);
            return next(false as unknown as AuthenticationType);
          }
          return next({ type: "publickey", username, key } as unknown as AuthenticationType);
        }
        // Servers running PAM often take passwords through keyboard-interactive only.
        if (
          methodsLeft &&
          !methodsLeft.includes("password") &&
          methodsLeft.includes("keyboard-interactive")
        ) {
          return next({
            type: "keyboard-interactive",
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) =>
              finish(prompts.map((p) => (p.echo ? "" : credential.password))),
          });
        }
        return next({ type: "password", username, password: credential.password });
      },
    };
    client.connect(config);
  });
}
