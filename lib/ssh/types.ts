/**
 * What a connection to a device is given and gives back: targets, credentials, timeouts and
 * command results, shared by the connect, channel and exec modules.
 *
 * @module
 */

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

/**
 * What a channel needs of the connection it runs on: its host (for errors), whether it is gone,
 * and a subscription to its loss that returns the function that ends it.
 */
export interface ConnectionLink {
  readonly host: string;
  readonly closed: boolean;
  onLost(listener: (err: Error) => void): () => void;
}
