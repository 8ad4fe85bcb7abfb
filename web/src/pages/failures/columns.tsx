import Box from "@cloudscape-design/components/box";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { TableProps } from "@cloudscape-design/components/table";
import type { Failure } from "../../api/types.ts";
import { Cause, RunLink, Time } from "../../components/display.tsx";
import { OPERATION_LABELS } from "../../labels.ts";

/** The failure records table's columns: when, which device, why, what to do, which runs. */
export const FAILURE_COLUMNS: TableProps.ColumnDefinition<Failure>[] = [
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
