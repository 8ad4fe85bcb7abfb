import type { KeyPair } from "../keys/types.ts";
import { openSession } from "../ssh/connect.ts";
import { AuthRejectedError } from "../ssh/errors.ts";
import type { SshSession } from "../ssh/session.ts";
import type { Credential, SessionTarget, SshTimeouts } from "../ssh/types.ts";

/** A platform key generation; generation numbers grow with each rotation. */
export interface Generation {
  generation: number;
  key: KeyPair;
}

/**
 * Keys offered on one connection. OpenSSH counts every offered key against MaxAuthTries
 * (default 6) and drops the connection past it, so more generations take more connections.
 */
export const GENERATIONS_PER_CONNECTION = 5;
/**
 * The most generations a device is offered: four connections' worth. A device down for more
 * rotations than this is told apart by its failure (docs/protocol.md, "Generations offered").
 */
export const MAX_GENERATIONS_OFFERED = 20;

/** Publickey credentials for the given generations, labelled by fingerprint only. */
export function generationCredentials(generations: Generation[]): Credential[] {
  return generations.map(({ generation, key }) => ({
    kind: "publickey",
    label: `generation ${generation} (${key.fingerprint})`,
    fingerprint: key.fingerprint,
    privateKey: key.privateKey,
  }));
}

/**
 * Logs in with the newest generation the device accepts: generations are offered newest first,
 * {@link GENERATIONS_PER_CONNECTION} per connection, up to {@link MAX_GENERATIONS_OFFERED}.
 * The host key is checked on every connection before any key is offered.
 */
export async function connectWithGenerations(
  target: SessionTarget,
  generations: Generation[],
  options: { timeouts?: Partial<SshTimeouts> | undefined; signal?: AbortSignal | undefined },
): Promise<{ session: SshSession; held: Generation; connections: number }> {
  const offered = generations.slice(0, MAX_GENERATIONS_OFFERED);
  const tried: string[] = [];
  let pinned = target.hostKeyFingerprint;
  let connections = 0;
  for (let i = 0; i < offered.length; i += GENERATIONS_PER_CONNECTION) {
    const batch = offered.slice(i, i + GENERATIONS_PER_CONNECTION);
    connections += 1;
    try {
      const session = await openSession({
        ...target,
        hostKeyFingerprint: pinned,
        credentials: generationCredentials(batch),
        timeouts: options.timeouts,
        signal: options.signal,
      });
      // biome-ignore lint/style/noNonNullAssertion: ssh2 reports one of the credentials offered
      return { session, held: batch[session.credentialIndex]!, connections };
    } catch (error) {
      if (!(error instanceof AuthRejectedError)) throw error;
      tried.push(...error.tried);
      // Later connections must meet the host key this one saw (pinned on first contact).
      pinned ??= error.hostKeyFingerprint;
    }
  }
  const left = generations.length - offered.length;
  if (left > 0) {
    tried.push(
      `${left} older generation(s) not offered: keyheal offers the newest ${MAX_GENERATIONS_OFFERED}`,
    );
  }
  throw new AuthRejectedError(target.host, target.username, tried);
}
