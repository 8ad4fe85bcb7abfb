/** Text framing of key files: line endings, and PEM-style BEGIN/END armor. Pure. */

import { UnparseableKeyError } from "./errors.ts";
import { decodeBase64Strict } from "./ssh-wire.ts";

/** A decoded `-----BEGIN <label>-----` … `-----END <label>-----` block. */
export interface Armor {
  label: string;
  /** RFC 1421 headers such as `Proc-Type` and `DEK-Info` (legacy encrypted PEM). */
  headers: ReadonlyMap<string, string>;
  body: Buffer;
}

/** Key text as users paste it: UTF-8 with optional BOM, CRLF or CR line ends, stray whitespace. */
export function normaliseKeyText(input: string | Buffer): string {
  const text = typeof input === "string" ? input : input.toString("utf8");
  return text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .trim();
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const END = /^-----END ([A-Z0-9 ]+)-----$/;
const HEADER = /^([A-Za-z0-9-]+):\s*(.*)$/;

/** Whether normalised text starts like PEM armor. */
export function looksArmored(text: string): boolean {
  return text.startsWith("-----BEGIN ");
}

/**
 * Decodes one armored block that makes up the whole of `text` (already
 * normalised). Throws {@link UnparseableKeyError} for a missing or mismatched
 * END line or a body that is not valid base64 — the usual signs of a
 * truncated copy-paste.
 */
export function parseArmor(text: string): Armor {
  const lines = text.split("\n").map((line) => line.trim());
  const label = BEGIN.exec(lines[0] ?? "")?.[1];
  if (label === undefined) throw new UnparseableKeyError("the BEGIN line is malformed");

  const endIndex = lines.findIndex((line) => line.startsWith("-----END"));
  if (endIndex === -1) {
    throw new UnparseableKeyError("there is no END line, so the key looks truncated");
  }
  const endLabel = END.exec(lines[endIndex] ?? "")?.[1];
  if (endLabel === undefined) throw new UnparseableKeyError("the END line is malformed");
  if (endLabel !== label) {
    throw new UnparseableKeyError(
      `the BEGIN line says "${label}" but the END line says "${endLabel}"`,
    );
  }
  if (endIndex !== lines.length - 1) {
    throw new UnparseableKeyError("there is more text after the END line");
  }

  const inner = lines.slice(1, endIndex);
  const headers = new Map<string, string>();
  let i = 0;
  for (; i < inner.length; i++) {
    const header = HEADER.exec(inner[i] ?? "");
    if (header === null) break;
    headers.set(header[1] ?? "", header[2] ?? "");
  }
  const body = decodeBase64Strict(inner.slice(i).join(""));
  if (body === undefined) {
    throw new UnparseableKeyError(
      "its body is missing or not valid base64, so the key is corrupt or truncated",
    );
  }
  return { label, headers, body };
}

/** Formats an armored block with LF line ends and a trailing newline. */
export function formatArmor(
  label: string,
  body: Buffer,
  options: { headers?: ReadonlyMap<string, string>; lineWidth?: number } = {},
): string {
  const width = options.lineWidth ?? 64;
  const base64 = body.toString("base64");
  const lines = [`-----BEGIN ${label}-----`];
  if (options.headers !== undefined && options.headers.size > 0) {
    for (const [name, value] of options.headers) lines.push(`${name}: ${value}`);
    lines.push("");
  }
  for (let at = 0; at < base64.length; at += width) lines.push(base64.slice(at, at + width));
  lines.push(`-----END ${label}-----`, "");
  return lines.join("\n");
}
