/**
 * Opening one exec channel on an authenticated connection, bounded in time: a server that never
 * answers the channel request must not hold a run for ever.
 *
 * @module
 */
import type { Client, ClientChannel } from "ssh2";
import { CommandTimeoutError, ConnectionLostError } from "./errors.ts";
import type { ConnectionLink } from "./types.ts";

/**
 * Sends `command` as an exec request on `client` and resolves with its channel. Rejects with
 * {@link CommandTimeoutError} after `timeoutMs`, or {@link ConnectionLostError} when the request
 * is refused or the connection goes first. A channel granted after the timeout is closed.
 */
export function openExecChannel(
  client: Client,
  link: ConnectionLink,
  command: string,
  timeoutMs: number,
  what: string,
): Promise<ClientChannel> {
  return new Promise<ClientChannel>((resolve, reject) => {
    if (link.closed) {
      reject(new ConnectionLostError(link.host));
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
      unsubscribe();
      if (err) reject(err);
      else resolve(stream as ClientChannel);
    };
    const unsubscribe = link.onLost((err) => settle(err));
    const timer = setTimeout(() => settle(new CommandTimeoutError(what, timeoutMs)), timeoutMs);
    client.exec(command, (err, stream) => {
      settle(err ? new ConnectionLostError(link.host, { cause: err }) : undefined, stream);
    });
  });
}
