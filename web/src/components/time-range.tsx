import DateRangePicker, {
  type DateRangePickerProps,
} from "@cloudscape-design/components/date-range-picker";

/** The API's spans (lib/api/schemas.ts): s, m, h, d, w; months and years as days. */
const SPAN_UNIT: Record<DateRangePickerProps.TimeUnit, { unit: string; times: number }> = {
  second: { unit: "s", times: 1 },
  minute: { unit: "m", times: 1 },
  hour: { unit: "h", times: 1 },
  day: { unit: "d", times: 1 },
  week: { unit: "w", times: 1 },
  month: { unit: "d", times: 30 },
  year: { unit: "d", times: 365 },
};

export type TimeRange = DateRangePickerProps.Value | null;

/**
 * The failures query of a range: a relative one is a span back from now (`since=24h`), kept
 * relative so that each refresh moves with the clock; an absolute one is two instants.
 */
export function rangeQuery(range: TimeRange): { since?: string; until?: string } {
  if (range === null) return {};
  if (range.type === "relative") {
    const { unit, times } = SPAN_UNIT[range.unit];
    return { since: `${range.amount * times}${unit}` };
  }
  const since = Date.parse(range.startDate);
  const until = Date.parse(range.endDate);
  return {
    ...(Number.isFinite(since) ? { since: new Date(since).toISOString() } : {}),
    ...(Number.isFinite(until) ? { until: new Date(until).toISOString() } : {}),
  };
}

const RELATIVE_OPTIONS: DateRangePickerProps.RelativeOption[] = [
  { key: "last-1h", amount: 1, unit: "hour", type: "relative" },
  { key: "last-24h", amount: 24, unit: "hour", type: "relative" },
  { key: "last-7d", amount: 7, unit: "day", type: "relative" },
  { key: "last-30d", amount: 30, unit: "day", type: "relative" },
];

function unitName(amount: number, unit: DateRangePickerProps.TimeUnit) {
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/** How a range reads in a sentence: "the last 24 hours", "2025-06-01 12:00 to 2025-06-02 12:00". */
export function describeRange(range: TimeRange): string | undefined {
  if (range === null) return undefined;
  if (range.type === "relative") return `the last ${unitName(range.amount, range.unit)}`;
  return `${range.startDate.replace("T", " ").slice(0, 16)} to ${range.endDate.replace("T", " ").slice(0, 16)}`;
}

/** Checks a range before the API sees it: an absolute end before its start is named here. */
function isValidRange(range: TimeRange): DateRangePickerProps.ValidationResult {
  if (range?.type === "absolute") {
    const [start, end] = [Date.parse(range.startDate), Date.parse(range.endDate)];
    if (!Number.isFinite(start) || !Number.isFinite(end)) {
      return { valid: false, errorMessage: "Give both a start and an end." };
    }
    if (start > end) return { valid: false, errorMessage: "The end must not be before the start." };
  }
  if (range?.type === "relative" && !(range.amount > 0 && range.amount <= 999_999)) {
    return { valid: false, errorMessage: "Give an amount from 1 to 999,999." };
  }
  return { valid: true };
}

/** Failures by time: the last hour, day, week or month, any relative span, or two dates. */
export function TimeRangePicker({
  value,
  onChange,
}: {
  value: TimeRange;
  onChange: (range: TimeRange) => void;
}) {
  return (
    <DateRangePicker
      value={value}
      onChange={({ detail }) => onChange(detail.value)}
      relativeOptions={RELATIVE_OPTIONS}
      isValidRange={isValidRange}
      placeholder="Any time"
      ariaLabel="Filter by time range"
      rangeSelectorMode="default"
      i18nStrings={{
        relativeModeTitle: "Relative range",
        absoluteModeTitle: "Absolute range",
        relativeRangeSelectionHeading: "Choose a range",
        formatRelativeRange: (range) => `Last ${unitName(range.amount, range.unit)}`,
        formatUnit: (unit, amount) => (amount === 1 ? unit : `${unit}s`),
        customRelativeRangeOptionLabel: "Custom range",
        customRelativeRangeOptionDescription: "Set a custom range in the past",
        customRelativeRangeUnitLabel: "Unit of time",
        customRelativeRangeDurationLabel: "Duration",
        startDateLabel: "Start date",
        endDateLabel: "End date",
        startTimeLabel: "Start time",
        endTimeLabel: "End time",
        clearButtonLabel: "Clear and dismiss",
        cancelButtonLabel: "Cancel",
        applyButtonLabel: "Apply",
        modeSelectionLabel: "Date range mode",
        todayAriaLabel: "Today",
        nextMonthAriaLabel: "Next month",
        previousMonthAriaLabel: "Previous month",
      }}
    />
  );
}
