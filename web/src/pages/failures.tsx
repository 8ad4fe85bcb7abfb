import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { useState } from "react";
import type { Failure } from "../api/types.ts";
import { CursorPagination } from "../components/cursor-pagination.tsx";
import { ErrorAlert } from "../components/states.tsx";
import { useFlash } from "../hooks/use-flash.tsx";
import { causeLabel, formatTime, plural } from "../labels.ts";
import { DeleteFailuresModal } from "./delete-failures-modal.tsx";
import { CauseSummary } from "./failures/cause-summary.tsx";
import { FAILURE_COLUMNS } from "./failures/columns.tsx";
import { FilterBar } from "./failures/filter-bar.tsx";
import { RecordActions } from "./failures/record-actions.tsx";
import { RecordsEmpty } from "./failures/records-empty.tsx";
import { useFailureData } from "./failures/use-failure-data.ts";
import { describeFilter, useFailureFilters } from "./failures/use-failure-filters.ts";
import { useRetry } from "./failures/use-retry.tsx";

/**
 * The failed tasks: counts by cause, the records with their causes and handling steps, filters,
 * retry and delete. Filters live in use-failure-filters.ts, the polled data and paging in
 * use-failure-data.ts, retry in use-retry.tsx; the parts it shows are in ./failures/.
 */
export function FailuresPage({ deviceFromRoute }: { deviceFromRoute?: string }) {
  const flash = useFlash();
  const filters = useFailureFilters(deviceFromRoute);
  const data = useFailureData(filters);
  const [selectedIds, setSelectedIds] = useState<ReadonlySet<string>>(new Set());
  const [deleting, setDeleting] = useState<"selected" | "all" | null>(null);
  const clearSelection = () => setSelectedIds(new Set());
  const { retrying, retry } = useRetry(() => {
    clearSelection();
    data.list.refresh();
  });

  const { items, stats, list, matching } = data;
  const selected = items.filter((f) => selectedIds.has(f.id));
  const filtered = filters.active;

  function clearFilters() {
    filters.clear();
    clearSelection();
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
        <CauseSummary
          stats={stats}
          scope={
            filtered && (filters.deviceId || filters.since)
              ? describeFilter({ deviceId: filters.filter.deviceId }, filters.range)
              : ""
          }
          filtered={filtered}
          onChooseCause={(cause) => {
            filters.setCause(cause);
            clearSelection();
          }}
        />
        <Table<Failure>
          variant="container"
          resizableColumns
          items={items}
          trackBy="id"
          columnDefinitions={FAILURE_COLUMNS}
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
              description={filtered ? `Showing ${filters.text}.` : "Newest first."}
              actions={
                <RecordActions
                  selectedCount={selected.length}
                  listed={items.length}
                  retrying={retrying}
                  onRefresh={data.refresh}
                  onRetry={() => void retry(selected)}
                  onDelete={setDeleting}
                />
              }
            >
              Failure records
            </Header>
          }
          filter={
            <FilterBar
              filters={filters}
              stats={stats.data}
              causeCounts={data.causeCounts}
              suggestions={data.devices.data?.items ?? []}
              onChange={clearSelection}
              onClear={clearFilters}
            />
          }
          pagination={<CursorPagination pages={data.pages} what="failures" />}
          empty={
            <RecordsEmpty
              failed={Boolean(list.error && !list.data)}
              filtered={filtered}
              filterText={filters.text}
              onRetryLoad={list.refresh}
              onClear={clearFilters}
            />
          }
        />
        {deleting ? (
          <DeleteFailuresModal
            what={deleting}
            selected={selected}
            filter={filters.filter}
            filterText={filters.text}
            matching={matching}
            onClose={(deleted) => {
              setDeleting(null);
              clearSelection();
              data.refresh();
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
