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
 * Floors a cut column keeps, tried in turn: long columns give way first, down to 16, then 12,
 * then 8 characters (never under the header), so short columns like a status stay whole if they can.
 */
const FLOORS = [16, 12, 8];

/**
 * Columns separated by two spaces, padded to the widest cell; the last column is not padded,
 * so a long message runs on without trailing blanks.
 *
 * @param width the terminal's width: when the table is wider, the widest columns are cut, one
 *   character at a time, and their long cells end in `…`, until each line fits (or every column
 *   is at its minimum). Without it (a pipe, a file), nothing is cut.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
  width?: number,
): string {
  const cells = rows.map((row) => headers.map((_, index) => cell(row[index])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((row) => [...(row[index] as string)].length)),
  );
  if (width !== undefined && width > 0) fitWidths(widths, headers, width);
  const cut = (text: string, index: number) => {
    const chars = [...text];
    const max = widths[index] ?? 0;
    return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
  };
  const line = (row: readonly string[]) =>
    row
      .map((text, index) => {
        const shown = cut(text, index);
        return index === row.length - 1
          ? shown
          : shown.padEnd(shown.length + (widths[index] ?? 0) - [...shown].length);
      })
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join("\n")}\n`;
}

/** Narrows the widest column by one until the row fits in `width` or nothing can give. */
function fitWidths(widths: number[], headers: readonly string[], width: number): void {
  const total = () => widths.reduce((sum, each) => sum + each, 0) + 2 * (widths.length - 1);
  for (const least of FLOORS) {
    const floor = headers.map((header) => Math.max(header.length, least));
    while (total() > width) {
      let widest = -1;
      widths.forEach((each, index) => {
        if (each > (floor[index] ?? 0) && (widest === -1 || each > (widths[widest] ?? 0))) {
          widest = index;
        }
      });
      if (widest === -1) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
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
