/**
 * Reading a request body and writing a JSON answer over node:http, shared by the local runtime's
 * API server and the CLI's console proxy (docs/architecture.md, Parts: `lib/http`, below both).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PayloadTooLargeError } from "../api/errors.ts";
import type { ApiResponse } from "../api/types.ts";

/** Private keys are a few KB; a 1,000-device registration well under this. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The request body as text, read up to `maxBytes`.
 *
 * @throws PayloadTooLargeError past `maxBytes` (declared or sent).
 */
export async function readBodyText(
  req: IncomingMessage,
  maxBytes = MAX_BODY_BYTES,
): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new PayloadTooLargeError(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A JSON answer, never cached. */
export function send(res: ServerResponse, response: ApiResponse): void {
  const payload = `${JSON.stringify(response.body)}\n`;
  res.writeHead(response.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...response.headers,
  });
  res.end(payload);
}
