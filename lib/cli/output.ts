/**
 * What the CLI prints: plain aligned tables and `label: value` blocks for people, JSON for
 * programs. Pure string builders; the commands write the result.
 *
 * @module
 */

/**
 * A value from the API made safe for one table cell: no control characters (a failure message
 * quoting a device's output must not move the cursor or break the row), `-` for nothing.
 */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  const text = typeof value === "string" ? value : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  return text.replace(/\r?\n|\r|\t/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/**
 * Columns separated by two spaces, padded to the widest cell; the last column is not padded,
 * so a long message runs on without trailing blanks.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = rows.map((row) => headers.map((_, index) => cell(row[index])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((row) => (row[index] as string).length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((text, index) => (index === row.length - 1 ? text : text.padEnd(widths[index] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join("\n")}\n`;
}

/** `label: value` lines with the values aligned, for one record. */
export function renderFields(fields: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  const lines = fields.map(([label, value]) =>
    `${`${label}:`.padEnd(width)}  ${cell(value)}`.trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

/** Pretty JSON with a final newline: what `--json` prints. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** An ISO time to the second, `2025-01-31T12:00:05Z`; `-` for none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return cell(iso);
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A short human duration: `850ms`, `4.2s`, `3m05s`, `2h04m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 3_600) {
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** The time between two ISO instants, `-` when either is missing. */
export function elapsed(
  startedAt: string | null | undefined,
  endedAt: string | null | undefined,
): string {
  if (!startedAt || !endedAt) return "-";
  return formatDuration(Date.parse(endedAt) - Date.parse(startedAt));
}
