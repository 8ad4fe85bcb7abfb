/**
 * An authenticated SSH connection to one device, as {@link openSession} (connect.ts) returns it:
 * what was verified on it, its channels and commands, and its end.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { Client, ClientChannel } from "ssh2";
import { openExecChannel } from "./channel.ts";
import { ConnectionLostError } from "./errors.ts";
import { type ExecOptions, execCommand } from "./exec.ts";
import type { ConnectionLink, ExecResult, SessionTarget, SshTimeouts } from "./types.ts";

export type {
  Credential,
  ExecResult,
  OpenSessionOptions,
  SessionTarget,
  SshTimeouts,
} from "./types.ts";
export { DEFAULT_TIMEOUTS, MAX_OUTPUT_BYTES } from "./types.ts";

/** An authenticated SSH connection to one device. */
export class SshSession implements ConnectionLink {
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
    return openExecChannel(this.#client, this, command, this.#timeouts.commandMs, what);
  }

  /**
   * Runs one command. The command text is fixed by keyheal; data travels on stdin, never in argv.
   * Resolves with the exit code; rejects on timeout, a lost connection, or more output than
   * `maxOutputBytes` (stdout and stderr together), when reading stops and the channel is closed.
   */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return execCommand(this.#client, this, command, this.#timeouts.commandMs, options);
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
