import Autosuggest from "@cloudscape-design/components/autosuggest";
import Button from "@cloudscape-design/components/button";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { Device, FailureStats } from "../../api/types.ts";
import { TimeRangePicker } from "../../components/time-range.tsx";
import { CAUSE_NAMES, causeLabel } from "../../labels.ts";
import type { FailureFilters } from "./use-failure-filters.ts";

/** Causes with failures first (with their counts), then every other cause. */
function causeOptions(
  stats: FailureStats | undefined,
  counts: ReadonlyMap<string, number>,
): SelectProps.Option[] {
  return [
    { value: "", label: "Any cause" },
    ...[
      ...(stats?.items.map((s) => s.cause) ?? []),
      ...CAUSE_NAMES.filter((c) => !counts.has(c)),
    ].map((c) => ({
      value: c,
      label: causeLabel(c),
      description: c,
      tags: [`${counts.get(c) ?? 0}`],
    })),
  ];
}

/** The filters above the failure records: cause, device (with suggestions) and date range. */
export function FilterBar({
  filters,
  stats,
  causeCounts,
  suggestions,
  onChange,
  onClear,
}: {
  filters: FailureFilters;
  stats: FailureStats | undefined;
  causeCounts: ReadonlyMap<string, number>;
  suggestions: readonly Device[];
  /** A filter was applied: the selection no longer holds. */
  onChange: () => void;
  onClear: () => void;
}) {
  const options = causeOptions(stats, causeCounts);
  return (
    <SpaceBetween direction="horizontal" size="xs">
      <div style={{ minWidth: 260 }}>
        <Select
          selectedOption={options.find((o) => o.value === (filters.cause ?? "")) ?? null}
          options={options}
          onChange={({ detail }) => {
            filters.setCause(detail.selectedOption.value || null);
            onChange();
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
          value={filters.deviceDraft}
          onChange={({ detail }) => {
            filters.setDeviceDraft(detail.value);
            if (detail.value === "") filters.setDeviceId("");
          }}
          onSelect={({ detail }) => {
            filters.setDeviceDraft(detail.value);
            filters.setDeviceId(detail.value.trim());
            onChange();
          }}
          onBlur={() => filters.setDeviceId(filters.deviceDraft.trim())}
          options={suggestions.map((d) => ({ value: d.id }))}
          enteredTextLabel={(value) => `Device “${value}”`}
          placeholder="Any device"
          ariaLabel="Filter by device"
          empty="No device with this id"
          clearAriaLabel="Clear device filter"
        />
      </div>
      <div style={{ minWidth: 200 }}>
        <TimeRangePicker
          value={filters.range}
          onChange={(next) => {
            filters.setRange(next);
            onChange();
          }}
        />
      </div>
      {filters.active ? <Button onClick={onClear}>Clear filters</Button> : null}
    </SpaceBetween>
  );
}
