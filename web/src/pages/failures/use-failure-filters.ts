import { useEffect, useState } from "react";
import { describeRange, rangeQuery, type TimeRange } from "../../components/time-range.tsx";
import { causeLabel } from "../../labels.ts";
import type { FailureFilter } from "../delete-failures-modal.tsx";

/** "cause Auth rejected, device dev-1, last 24 hours": what a filter shows, in words. */
export function describeFilter(filter: FailureFilter, range: TimeRange): string {
  const parts: string[] = [];
  if (filter.cause) parts.push(`cause ${causeLabel(filter.cause)}`);
  if (filter.deviceId) parts.push(`device ${filter.deviceId}`);
  const when = describeRange(range);
  if (when) parts.push(when);
  return parts.join(", ");
}

/**
 * The failures page's filters: a cause, a device (typed in `deviceDraft`, applied to `deviceId`
 * when chosen or left) and a time range. `key` changes whenever the applied filter does.
 */
export function useFailureFilters(deviceFromRoute: string | undefined) {
  const [cause, setCause] = useState<string | null>(null);
  const [deviceId, setDeviceId] = useState(deviceFromRoute ?? "");
  const [deviceDraft, setDeviceDraft] = useState(deviceFromRoute ?? "");
  const [range, setRange] = useState<TimeRange>(null);
  const { since, until } = rangeQuery(range);

  // A link to another device's failures changes the route, not this page.
  useEffect(() => {
    setDeviceId(deviceFromRoute ?? "");
    setDeviceDraft(deviceFromRoute ?? "");
  }, [deviceFromRoute]);

  const filter: FailureFilter = {
    cause: cause ?? undefined,
    deviceId: deviceId || undefined,
    since,
    until,
  };

  function clear() {
    setCause(null);
    setDeviceId("");
    setDeviceDraft("");
    setRange(null);
    if (window.location.hash !== "#/failures") window.location.hash = "#/failures";
  }

  return {
    cause,
    setCause,
    deviceId,
    setDeviceId,
    deviceDraft,
    setDeviceDraft,
    range,
    setRange,
    since,
    until,
    filter,
    key: `${cause ?? ""}|${deviceId}|${since ?? ""}|${until ?? ""}`,
    /** Whether any filter is set. */
    active: Boolean(cause || deviceId || range),
    /** The filter in words, for headers and empty states. */
    text: describeFilter(filter, range),
    clear,
  };
}

export type FailureFilters = ReturnType<typeof useFailureFilters>;
