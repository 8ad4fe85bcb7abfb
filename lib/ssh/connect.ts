/**
 * Opening a connection to a device: TCP, the SSH handshake with the host key checked before any
 * credential is sent, and authentication with the credentials given, each failure mapped to an
 * error of its own (errors.ts) so its cause can be classified.
 *
 * @module
 */
import { type Socket, connect as tcpConnect } from "node:net";
import type { ConnectConfig } from "ssh2";
import SshClient from "ssh2/lib/client.js";
import { ALGORITHMS } from "./algorithms.ts";
import { CredentialOffer } from "./auth.ts";
import {
  AuthRejectedError,
  ConnectFailedError,
  ConnectionLostError,
  ConnectTimeoutError,
  DeadlineExceededError,
  HandshakeFailedError,
  HandshakeTimeoutError,
  HostKeyNotPinnedError,
} from "./errors.ts";
import { HostKeyCheck } from "./fingerprints.ts";
import { SshSession } from "./session.ts";
import { DEFAULT_TIMEOUTS, type OpenSessionOptions } from "./types.ts";

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
  const hostKey = new HostKeyCheck(host, pinned);

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
    const offer = new CredentialOffer(options.credentials, username, fail);

    client.on("ready", () => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      resolve(
        new SshSession({
          target: options,
          client,
          socket,
          timeouts,
          // biome-ignore lint/style/noNonNullAssertion: the host verifier ran before "ready"
          hostKeyFingerprint: hostKey.seen!,
          credentialIndex: offer.attempt,
          credentialLabel: offer.current?.label ?? "",
        }),
      );
    });
    client.on("error", (err: Error & { level?: string }) => {
      if (hostKey.mismatch) return fail(hostKey.mismatch);
      switch (err.level) {
        case "client-timeout":
          return fail(new HandshakeTimeoutError(host, port, timeouts.handshakeMs));
        case "client-authentication": {
          const refused = new AuthRejectedError(host, username, offer.tried, { cause: err });
          refused.hostKeyFingerprint = hostKey.seen;
          return fail(refused);
        }
        case "client-socket":
          return fail(new ConnectionLostError(host, { cause: err }));
        default:
          return fail(new HandshakeFailedError(host, { cause: err }));
      }
    });
    client.on("close", () => {
      fail(hostKey.mismatch ?? new ConnectionLostError(host));
    });

    const config: ConnectConfig = {
      sock: socket,
      username,
      readyTimeout: timeouts.handshakeMs,
      keepaliveInterval: timeouts.keepaliveIntervalMs,
      keepaliveCountMax: timeouts.keepaliveCountMax,
      algorithms: ALGORITHMS as unknown as ConnectConfig["algorithms"],
      hostVerifier: hostKey.verify,
      authHandler: offer.handler,
    };
    client.connect(config);
  });
}
