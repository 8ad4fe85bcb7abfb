/**
 * Raw HTTP over a TCP socket, for requests no HTTP client would send: broken request lines,
 * lying `Content-Length`, truncated bodies, headers sent a byte at a time.
 */
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  /** The status of the first answer; undefined when the server closed without one. */
  status: number | undefined;
  /** Everything the server sent before it closed or `waitMs` passed. */
  text: string;
}

/** `http://127.0.0.1:1234` → its host and port. */
export function addressOf(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

function open(url: string): Promise<Socket> {
  const { host, port } = addressOf(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

function collect(socket: Socket, waitMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text });
    };
    const timer = setTimeout(done, waitMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.once("close", done);
    socket.once("error", done);
  });
}

/**
 * Sends `bytes` as they are, optionally half-closes, and reads what comes back until the server
 * closes or `waitMs` passes (bounded either way).
 */
export async function rawRequest(
  url: string,
  bytes: string | Buffer,
  options: { end?: boolean; waitMs?: number } = {},
): Promise<RawAnswer> {
  const socket = await open(url);
  const answer = collect(socket, options.waitMs ?? 2_000);
  socket.write(bytes);
  if (options.end) socket.end();
  return answer;
}

/**
 * A slow client (slowloris): sends `head` one byte every `intervalMs`, at most `maxBytes` bytes,
 * never finishing the headers. Returns a function that stops it and closes the socket.
 */
export async function trickle(
  url: string,
  head: string,
  intervalMs: number,
  maxBytes: number,
): Promise<() => void> {
  const socket = await open(url);
  socket.on("error", () => {});
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= Math.min(maxBytes, head.length) || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    socket.write(head[sent] as string);
    sent++;
  }, intervalMs);
  return () => {
    clearInterval(timer);
    socket.destroy();
  };
}
