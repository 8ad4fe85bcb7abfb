import Autosuggest from "@cloudscape-design/components/autosuggest";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { useEffect, useState } from "react";
import { api, messageOf, query } from "../api/client.ts";
import type { Device, Failure, FailureStats, Page } from "../api/types.ts";
import { CursorPagination } from "../components/cursor-pagination.tsx";
import { Cause, RunLink, Time } from "../components/display.tsx";
import { EmptyState, ErrorAlert } from "../components/states.tsx";
import {
  describeRange,
  rangeQuery,
  type TimeRange,
  TimeRangePicker,
} from "../components/time-range.tsx";
import { useCursorPages } from "../hooks/use-cursor-pages.ts";
import { useFlash } from "../hooks/use-flash.tsx";
import { usePoll } from "../hooks/use-poll.ts";
import { runHref } from "../hooks/use-route.ts";
import { CAUSE_NAMES, causeLabel, formatTime, OPERATION_LABELS, plural } from "../labels.ts";
import { DeleteFailuresModal, type FailureFilter } from "./delete-failures-modal.tsx";

const PAGE_SIZE = 25;
const REFRESH_MS = 5000;

const columns: TableProps.ColumnDefinition<Failure>[] = [
  { id: "time", header: "Time", width: 165, cell: (f) => <Time iso={f.occurredAt} /> },
  {
    id: "device",
    header: "Device",
    width: 110,
    isRowHeader: true,
    cell: (f) => <Box fontWeight="bold">{f.deviceId}</Box>,
  },
  { id: "cause", header: "Cause", width: 180, cell: (f) => <Cause cause={f.cause} /> },
  {
    id: "hint",
    header: "Handling step",
    cell: (f) => (
      <SpaceBetween size="xxxs">
        <Box>{f.hint}</Box>
        <Box variant="small" color="text-body-secondary">
          {/* Messages carry fingerprints and paths without spaces. */}
          <span style={{ overflowWrap: "anywhere" }}>{f.message}</span>
        </Box>
      </SpaceBetween>
    ),
  },
  {
    id: "operation",
    header: "Operation",
    width: 125,
    cell: (f) => (
      <div>
        <div>{OPERATION_LABELS[f.operation] ?? f.operation}</div>
        <Box variant="small" color="text-body-secondary">
          Attempt {f.attempt}
        </Box>
      </div>
    ),
  },
  {
    id: "run",
    header: "Run",
    width: 100,
    cell: (f) => (
      <SpaceBetween size="xxxs">
        {f.runId ? (
          <RunLink runId={f.runId} ariaLabel={`View the failed run of ${f.deviceId}`} />
        ) : (
          "—"
        )}
        {f.retriedByRunId ? (
          <RunLink runId={f.retriedByRunId} ariaLabel={`View the retry run of ${f.deviceId}`}>
            Retry run
          </RunLink>
        ) : null}
      </SpaceBetween>
    ),
  },
];

function describeFilter(filter: FailureFilter, range: TimeRange): string {
  const parts: string[] = [];
  if (filter.cause) parts.push(`cause ${causeLabel(filter.cause)}`);
  if (filter.deviceId) parts.push(`device ${filter.deviceId}`);
  const when = describeRange(range);
  if (when) parts.push(when);
  return parts.join(", ");
}

/** The Huawei "Failed Key Pair Task" list, with causes, handling steps, filters and retry. */
export function FailuresPage({ deviceFromRoute }: { deviceFromRoute?: string }) {
  const flash = useFlash();
  const [cause, setCause] = useState<string | null>(null);
  const [deviceId, setDeviceId] = useState(deviceFromRoute ?? "");
  const [deviceDraft, setDeviceDraft] = useState(deviceFromRoute ?? "");
  const [range, setRange] = useState<TimeRange>(null);
  const { since, until } = rangeQuery(range);
  const [selectedIds, setSelectedIds] = useState<ReadonlySet<string>>(new Set());
  const [deleting, setDeleting] = useState<"selected" | "all" | null>(null);
  const [retrying, setRetrying] = useState(false);

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
  const filterKey = `${cause ?? ""}|${deviceId}|${since ?? ""}|${until ?? ""}`;
  const pages = useCursorPages(filterKey);
  const list = usePoll(
    async () => {
      const page = await api<Page<Failure>>(
        "GET",
        `/failures${query({ ...filter, limit: PAGE_SIZE, cursor: pages.cursor })}`,
      );
      return page;
    },
    `${filterKey}|${pages.cursor ?? ""}`,
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

  const items = list.data?.items ?? [];
  const selected = items.filter((f) => selectedIds.has(f.id));
  const causeCounts = new Map((stats.data?.items ?? []).map((s) => [s.cause, s.count]));
  const matching = stats.data
    ? cause
      ? (causeCounts.get(cause) ?? 0)
      : stats.data.total
    : undefined;
  const filtered = Boolean(cause || deviceId || range);

  const causeOptions: SelectProps.Option[] = [
    { value: "", label: "Any cause" },
    ...[
      ...(stats.data?.items.map((s) => s.cause) ?? []),
      ...CAUSE_NAMES.filter((c) => !causeCounts.has(c)),
    ].map((c) => ({
      value: c,
      label: causeLabel(c),
      description: c,
      tags: [`${causeCounts.get(c) ?? 0}`],
    })),
  ];

  function clearFilters() {
    setCause(null);
    setDeviceId("");
    setDeviceDraft("");
    setRange(null);
    setSelectedIds(new Set());
    if (window.location.hash !== "#/failures") window.location.hash = "#/failures";
  }

  async function retry() {
    setRetrying(true);
    const started: Array<{ failure: Failure; runId: string }> = [];
    const errors: string[] = [];
    for (const failure of selected) {
      try {
        const { runId } = await api<{ runId: string }>(
          "POST",
          `/failures/${encodeURIComponent(failure.id)}/retry`,
        );
        started.push({ failure, runId });
      } catch (error) {
        errors.push(`${failure.deviceId}: ${messageOf(error)}`);
      }
    }
    setRetrying(false);
    setSelectedIds(new Set());
    list.refresh();
    if (started.length > 0) {
      const first = started[0] as { failure: Failure; runId: string };
      flash.show({
        type: "success",
        header:
          started.length === 1
            ? `Retry started for ${first.failure.deviceId}`
            : `${started.length} retries started`,
        content: (
          <SpaceBetween size="xxxs">
            <span>
              A new reconnect run checks each device again; a new failure is recorded if it fails.
            </span>
            {started.map(({ failure, runId }) => (
              <Link
                key={runId}
                href={runHref(runId)}
                ariaLabel={`View the new run of ${failure.deviceId}`}
              >
                {failure.deviceId}: attempt {failure.attempt + 1} — view run
              </Link>
            ))}
          </SpaceBetween>
        ),
      });
    }
    if (errors.length > 0) {
      flash.show({
        type: "error",
        header: "Some retries did not start",
        content: errors.join("; "),
      });
    }
  }

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          counter={stats.data ? `(${stats.data.total})` : undefined}
          description="Each failed operation with its cause and the step to take. A record does not change its device: delete it once handled, or retry to check the device again. Records expire after 90 days."
        >
          Failed tasks
        </Header>
      }
    >
      <SpaceBetween size="l">
        <ErrorAlert error={list.error ?? stats.error} what="Failed tasks" onRetry={list.refresh} />
        <Container
          header={
            <Header
              variant="h2"
              counter={stats.data ? `(${stats.data.total})` : undefined}
              description={
                filtered && (deviceId || since)
                  ? `Counts for ${describeFilter({ deviceId: filter.deviceId }, range)}. Choose a cause to list its failures.`
                  : "Choose a cause to list its failures."
              }
            >
              Failures by cause
            </Header>
          }
        >
          {stats.loading ? (
            <Box color="text-status-inactive">Loading counts</Box>
          ) : stats.error && !stats.data ? (
            <Box color="text-status-inactive">Counts are unavailable.</Box>
          ) : stats.data && stats.data.items.length > 0 ? (
            <ColumnLayout columns={4} variant="text-grid" minColumnWidth={200}>
              {stats.data.items.map((s) => (
                <SpaceBetween size="xs" key={s.cause}>
                  <Box variant="awsui-key-label">{causeLabel(s.cause)}</Box>
                  <Link
                    variant="awsui-value-large"
                    onFollow={(event) => {
                      event.preventDefault();
                      setCause(s.cause);
                      setSelectedIds(new Set());
                    }}
                    href={`#/failures`}
                    ariaLabel={`${s.count} ${causeLabel(s.cause)}: show them`}
                  >
                    {s.count}
                  </Link>
                  <Box variant="small" color="text-body-secondary">
                    {s.hint}
                  </Box>
                </SpaceBetween>
              ))}
            </ColumnLayout>
          ) : (
            <Box color="text-body-secondary">
              No failures{filtered ? " for these filters" : ""}.
            </Box>
          )}
        </Container>
        <Table<Failure>
          variant="container"
          resizableColumns
          items={items}
          trackBy="id"
          columnDefinitions={columns}
          loading={list.loading}
          loadingText="Loading failed tasks"
          selectionType="multi"
          selectedItems={selected}
          onSelectionChange={({ detail }) =>
            setSelectedIds(new Set(detail.selectedItems.map((f) => f.id)))
          }
          wrapLines
          ariaLabels={{
            tableLabel: "Failed tasks",
            selectionGroupLabel: "Failure selection",
            allItemsSelectionLabel: ({ selectedItems }) =>
              selectedItems.length === items.length
                ? "Deselect all failures"
                : "Select all failures",
            itemSelectionLabel: (_s, f) =>
              `Select failure of ${f.deviceId} at ${formatTime(f.occurredAt)} (${causeLabel(f.cause)})`,
          }}
          header={
            <Header
              variant="h1"
              counter={
                matching === undefined
                  ? undefined
                  : filtered && stats.data
                    ? `(${matching}/${stats.data.total})`
                    : `(${matching})`
              }
              description={filtered ? `Showing ${describeFilter(filter, range)}.` : "Newest first."}
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  <Button
                    iconName="refresh"
                    ariaLabel="Refresh failed tasks"
                    onClick={() => {
                      list.refresh();
                      stats.refresh();
                    }}
                  />
                  <Button
                    disabled={selected.length === 0}
                    disabledReason="Select the failures to retry."
                    loading={retrying}
                    onClick={() => void retry()}
                  >
                    {selected.length > 1 ? `Retry (${selected.length})` : "Retry"}
                  </Button>
                  <Button
                    disabled={selected.length === 0}
                    disabledReason="Select the failures to delete."
                    onClick={() => setDeleting("selected")}
                  >
                    {selected.length > 1 ? `Delete (${selected.length})` : "Delete"}
                  </Button>
                  <Button
                    disabled={items.length === 0}
                    disabledReason="There is nothing to delete."
                    onClick={() => setDeleting("all")}
                  >
                    Delete all
                  </Button>
                </SpaceBetween>
              }
            >
              Failure records
            </Header>
          }
          filter={
            <SpaceBetween direction="horizontal" size="xs">
              <div style={{ minWidth: 260 }}>
                <Select
                  selectedOption={causeOptions.find((o) => o.value === (cause ?? "")) ?? null}
                  options={causeOptions}
                  onChange={({ detail }) => {
                    setCause(detail.selectedOption.value || null);
                    setSelectedIds(new Set());
                  }}
                  inlineLabelText="Cause"
                  ariaLabel="Filter by cause"
                  filteringType="auto"
                  filteringAriaLabel="Find a cause"
                  filteringPlaceholder="Find a cause"
                />
              </div>
              <div style={{ minWidth: 220 }}>
                <Autosuggest
                  value={deviceDraft}
                  onChange={({ detail }) => {
                    setDeviceDraft(detail.value);
                    if (detail.value === "") setDeviceId("");
                  }}
                  onSelect={({ detail }) => {
                    setDeviceDraft(detail.value);
                    setDeviceId(detail.value.trim());
                    setSelectedIds(new Set());
                  }}
                  onBlur={() => setDeviceId(deviceDraft.trim())}
                  options={(devices.data?.items ?? []).map((d) => ({ value: d.id }))}
                  enteredTextLabel={(value) => `Device “${value}”`}
                  placeholder="Any device"
                  ariaLabel="Filter by device"
                  empty="No device with this id"
                  clearAriaLabel="Clear device filter"
                />
              </div>
              <div style={{ minWidth: 200 }}>
                <TimeRangePicker
                  value={range}
                  onChange={(next) => {
                    setRange(next);
                    setSelectedIds(new Set());
                  }}
                />
              </div>
              {filtered ? <Button onClick={clearFilters}>Clear filters</Button> : null}
            </SpaceBetween>
          }
          pagination={<CursorPagination pages={pages} what="failures" />}
          empty={
            list.error && !list.data ? (
              <EmptyState
                title="Failed tasks could not be loaded"
                subtitle="The message above says why."
                action={<Button onClick={list.refresh}>Try again</Button>}
              />
            ) : filtered ? (
              <EmptyState
                title="No failed tasks match the filters"
                subtitle={`Nothing for ${describeFilter(filter, range)}.`}
                action={<Button onClick={clearFilters}>Clear filters</Button>}
              />
            ) : (
              <EmptyState
                title="No failed tasks"
                subtitle="Every operation succeeded, or the records were deleted. New failures appear here with their cause and handling step."
                action={<Button href="#/devices">View devices</Button>}
              />
            )
          }
        />
        {deleting ? (
          <DeleteFailuresModal
            what={deleting}
            selected={selected}
            filter={filter}
            filterText={describeFilter(filter, range)}
            matching={matching}
            onClose={(deleted) => {
              setDeleting(null);
              setSelectedIds(new Set());
              list.refresh();
              stats.refresh();
              if (deleted !== null) {
                flash.show({
                  type: "success",
                  header: `Deleted ${plural(deleted, "failure record")}`,
                });
              }
            }}
          />
        ) : null}
      </SpaceBetween>
    </ContentLayout>
  );
}
