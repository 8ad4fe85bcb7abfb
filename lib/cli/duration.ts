/**
 * `--since` values: a duration back from now (`90m`, `24h`, `7d`, `1h30m`) or an ISO 8601 date
 * or date-time. Pure: the clock is a parameter.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(?:\d+[smhdw])+$/;
const DURATION_PART = /(\d+)([smhdw])/g;
/** A date, or a date-time with optional seconds, fraction and zone (local time without one). */
const ISO =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A duration such as `90m`, `24h`, `7d` or `1h30m`, in milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/**
 * The instant `--since` names, as an ISO string.
 *
 * @throws UsageError for anything that is neither a positive duration nor an ISO date.
 */
export function parseSince(text: string, now: Date, flagName = "--since"): string {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return new Date(now.getTime() - duration).toISOString();
  if (ISO.test(trimmed)) {
    const time = Date.parse(trimmed.replace(" ", "T"));
    if (Number.isFinite(time)) return new Date(time).toISOString();
  }
  throw new UsageError(
    `${flagName} must be a duration such as 90m, 24h or 7d, or an ISO date such as 2025-01-31T12:00:00Z (got ${JSON.stringify(text)})`,
  );
}
