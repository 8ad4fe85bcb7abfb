/**
 * The one grammar of durations and instants, for the CLI's flags (`--since 24h`,
 * `--probe-interval 10s`) and the API's queries (`?since=7d&until=2025-01-31T12:00:00Z`) alike
 * (docs/architecture.md, Contracts). Pure: the clock is a parameter; callers turn `undefined`
 * into their own error, naming their flag or field with {@link DURATION_EXAMPLES} or
 * {@link INSTANT_EXAMPLES}.
 *
 * - duration: one or more `<digits><unit>`, unit `ms`, `s`, `m`, `h`, `d` or `w`: `500ms`, `90m`,
 *   `1h30m`. Positive unless zero is asked for.
 * - instant: a duration back from now, or an ISO 8601 date (`2025-01-31`, midnight UTC) or
 *   date-time with `Z` or an offset (`2025-01-31T12:00:00Z`, `2025-01-31 14:00+02:00`). A
 *   date-time without a zone is refused: the API cannot know the caller's zone.
 *
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(?:\d+(?:ms|[smhdw]))+$/;
const DURATION_PART = /(\d+)(ms|[smhdw])/g;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/i;

/** What a duration looks like, for error messages. */
export const DURATION_EXAMPLES = "a duration such as 500ms, 90m, 24h, 7d or 1h30m";

/** What an instant looks like, for error messages. */
export const INSTANT_EXAMPLES =
  "a duration such as 90m, 24h or 7d (back from now), or an ISO 8601 date-time with a zone such as 2025-01-31T12:00:00Z";

/**
 * A duration in milliseconds; `undefined` when `text` is not one, or is zero and `allowZero` is
 * not set. A bare `0` is a duration only with `allowZero` (a switch-off value such as
 * `--probe-interval 0`).
 */
export function parseDuration(
  text: string,
  options: { allowZero?: boolean } = {},
): number | undefined {
  const trimmed = text.trim();
  if (options.allowZero && trimmed === "0") return 0;
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? Number.NaN);
  }
  if (!Number.isSafeInteger(total)) return undefined;
  return total > 0 || (options.allowZero && total === 0) ? total : undefined;
}

/**
 * The instant `text` names, as an ISO string in UTC; `undefined` when it is neither a positive
 * duration (back from `now`) nor a valid ISO 8601 date or zoned date-time.
 */
export function parseInstant(text: string, now: Date): string | undefined {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return new Date(now.getTime() - duration).toISOString();
  const date = ISO_DATE.exec(trimmed) ?? ISO_DATE_TIME.exec(trimmed);
  if (!date) return undefined;
  const [, year, month, day, hour = "0", minute = "0", second = "0", offsetH = "0", offsetM = "0"] =
    date;
  // Date.parse rolls 2025-02-30 over into March; a field out of range is a typo, not a date.
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    Number(offsetH) > 23 ||
    Number(offsetM) > 59
  ) {
    return undefined;
  }
  // Date.parse reads ISO's extended form only: a `T`, upper case, and an offset with a colon.
  const extended = trimmed
    .toUpperCase()
    .replace(" ", "T")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const time = Date.parse(extended);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}
