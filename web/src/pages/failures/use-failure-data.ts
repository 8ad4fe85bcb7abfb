import { useEffect } from "react";
import { api, query } from "../../api/client.ts";
import type { Device, Failure, FailureStats, Page } from "../../api/types.ts";
import { useCursorPages } from "../../hooks/use-cursor-pages.ts";
import { usePoll } from "../../hooks/use-poll.ts";
import type { FailureFilters } from "./use-failure-filters.ts";

const PAGE_SIZE = 25;
const REFRESH_MS = 5000;

/**
 * What the failures page shows, polled: one page of records for the filters (paged by cursor),
 * the counts by cause for the device and time range, and device suggestions for the draft.
 */
export function useFailureData(filters: FailureFilters) {
  const { filter, deviceId, deviceDraft, since, until } = filters;
  const pages = useCursorPages(filters.key);
  const list = usePoll(
    () =>
      api<Page<Failure>>(
        "GET",
        `/failures${query({ ...filter, limit: PAGE_SIZE, cursor: pages.cursor })}`,
      ),
    `${filters.key}|${pages.cursor ?? ""}`,
    REFRESH_MS,
  );
  const stats = usePoll(
    () =>
      api<FailureStats>(
        "GET",
        `/failures/stats${query({ deviceId: filter.deviceId, since, until })}`,
      ),
    `${deviceId}|${since ?? ""}|${until ?? ""}`,
    REFRESH_MS,
  );
  const devices = usePoll(
    // Suggestions from the API's device search, so any device is found, not the first 100.
    () => api<Page<Device>>("GET", `/devices${query({ q: deviceDraft.trim(), limit: 20 })}`),
    `devices|${deviceDraft.trim()}`,
    REFRESH_MS * 6,
  );

  // Only the current inputs' answer says where the next page starts.
  const nextCursor = list.data?.nextCursor;
  const { learnNext } = pages;
  useEffect(() => {
    if (nextCursor !== undefined) learnNext(nextCursor);
  }, [nextCursor, learnNext]);

  const causeCounts = new Map((stats.data?.items ?? []).map((s) => [s.cause, s.count]));
  /** Records matching the filters, from the counts (undefined until they arrive). */
  const matching = stats.data
    ? filters.cause
      ? (causeCounts.get(filters.cause) ?? 0)
      : stats.data.total
    : undefined;

  return {
    pages,
    list,
    stats,
    devices,
    items: list.data?.items ?? [],
    causeCounts,
    matching,
    refresh() {
      list.refresh();
      stats.refresh();
    },
  };
}

export type FailureData = ReturnType<typeof useFailureData>;
