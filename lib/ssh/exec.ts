/**
 * One remote command on a channel of its own: its output read up to a bound, its exit status,
 * and a timeout. The command text is fixed by keyheal; data travels on stdin, never in argv.
 *
 * @module
 */
import type { Client, ClientChannel } from "ssh2";
import { CommandTimeoutError, ConnectionLostError, OutputTooLargeError } from "./errors.ts";
import { type ConnectionLink, type ExecResult, MAX_OUTPUT_BYTES } from "./types.ts";

export interface ExecOptions {
  stdin?: Buffer;
  timeoutMs?: number;
  what?: string;
  maxOutputBytes?: number;
}

/**
 * Runs `command` on `client` and resolves with its exit code and output. Rejects on timeout, a
 * lost connection, or more output than `maxOutputBytes` (stdout and stderr together), when
 * reading stops and the channel is closed.
 */
export function execCommand(
  client: Client,
  link: ConnectionLink,
  command: string,
  defaultTimeoutMs: number,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const maxOutput = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const what = options.what ?? "command";
  return new Promise<ExecResult>((resolve, reject) => {
    if (link.closed) {
      reject(new ConnectionLostError(link.host));
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
      unsubscribe();
      if (err) {
        channel?.destroy();
        reject(err);
      } else if (result) resolve(result);
    };
    const unsubscribe = link.onLost((err) => finish(err));
    const timer = setTimeout(() => finish(new CommandTimeoutError(what, timeoutMs)), timeoutMs);
    client.exec(command, (err, stream) => {
      if (err) {
        finish(new ConnectionLostError(link.host, { cause: err }));
        return;
      }
      channel = stream;
      const take = (into: Buffer[]) => (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxOutput) {
          finish(new OutputTooLargeError(link.host, what, maxOutput));
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
          finish(new ConnectionLostError(link.host));
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
