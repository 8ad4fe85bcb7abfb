import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import ExpandableSection from "@cloudscape-design/components/expandable-section";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import Link from "@cloudscape-design/components/link";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { useEffect, useState } from "react";
import { ApiError, api, runPath } from "../api/client.ts";
import type { Run, RunStep } from "../api/types.ts";
import { Mono, RunStatusIndicator, Time } from "../components/display.tsx";
import { EmptyState, ErrorAlert } from "../components/states.tsx";
import { usePoll } from "../hooks/use-poll.ts";
import { failuresHref } from "../hooks/use-route.ts";
import { causeLabel, formatDuration, plural, WORKFLOW_LABELS } from "../labels.ts";

const REFRESH_MS = 1500;

type NumberedStep = RunStep & { index: number };

interface TaskFailure {
  cause?: string;
  operation?: string;
  stage?: string;
  message?: string;
}

/**
 * A failed Task's cause is the error keyheal threw, as JSON (`{ cause, operation, stage,
 * message }`); other states carry plain text.
 */
function parseCause(text: string | null | undefined): TaskFailure | string | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && "message" in value) return value as TaskFailure;
  } catch {
    // Plain text.
  }
  return text;
}

function StepOutcome({ step }: { step: RunStep }) {
  if (!step.error && !step.caughtBy) return <>{step.status === "SUCCEEDED" ? "OK" : "—"}</>;
  const detail = parseCause(step.cause);
  const structured = typeof detail === "object" ? detail : undefined;
  return (
    <SpaceBetween size="xxxs">
      {structured?.cause ? (
        <Box fontWeight="bold">{causeLabel(structured.cause)}</Box>
      ) : step.error ? (
        <Box fontWeight="bold">{causeLabel(step.error)}</Box>
      ) : null}
      {structured?.message ? <Box variant="small">{structured.message}</Box> : null}
      {typeof detail === "string" ? <Box variant="small">{detail}</Box> : null}
      <Box variant="small" color="text-body-secondary">
        {[
          step.error && (structured?.cause || causeLabel(step.error) !== step.error)
            ? step.error
            : null,
          structured?.cause ?? null,
          structured?.stage ? `at ${structured.stage}` : null,
          step.caughtBy ? `caught, continued at ${step.caughtBy}` : null,
        ]
          .filter(Boolean)
          .join(" · ")}
      </Box>
    </SpaceBetween>
  );
}

const stepColumns: TableProps.ColumnDefinition<NumberedStep>[] = [
  { id: "index", header: "#", cell: (s) => s.index, width: 60 },
  {
    id: "name",
    header: "Step",
    isRowHeader: true,
    cell: (s) => (
      <div>
        <Box fontWeight="bold">{s.name}</Box>
        {s.type ? (
          <Box variant="small" color="text-body-secondary">
            {s.type}
          </Box>
        ) : null}
      </div>
    ),
  },
  { id: "status", header: "Status", cell: (s) => <RunStatusIndicator status={s.status} /> },
  { id: "started", header: "Started", cell: (s) => <Time iso={s.startedAt} age={false} /> },
  {
    id: "duration",
    header: "Duration",
    cell: (s) =>
      s.endedAt || s.status === "RUNNING" ? formatDuration(s.startedAt, s.endedAt) : "—",
  },
  { id: "retries", header: "Retries", cell: (s) => s.retries ?? 0 },
  {
    id: "outcome",
    header: "Outcome",
    width: 420,
    cell: (s) => <StepOutcome step={s} />,
  },
];

/** One workflow run: its status and timings, then every step and how it ended. */
export function RunDetailPage({ runId }: { runId: string }) {
  const [ended, setEnded] = useState(false);
  const poll = usePoll(() => api<Run>("GET", runPath(runId)), runId, ended ? 0 : REFRESH_MS);
  const run = poll.data;
  const done = run !== undefined && run.status !== "RUNNING";
  useEffect(() => setEnded(done), [done]);

  if (poll.error instanceof ApiError && poll.error.status === 404) {
    return (
      <Container header={<Header variant="h1">Run not found</Header>}>
        <EmptyState
          title={`No run ${runId}`}
          subtitle="Runs are kept for a limited time: this one may have expired, or the link is incomplete."
          action={<Button href="#/failures">View failed tasks</Button>}
        />
      </Container>
    );
  }
  if (!run) {
    return poll.error ? (
      <ErrorAlert error={poll.error} what="Run" onRetry={poll.refresh} />
    ) : (
      <Box color="text-status-inactive" padding="l">
        Loading run {runId}
      </Box>
    );
  }

  const steps: NumberedStep[] = run.steps.map((s, i) => ({ ...s, index: i + 1 }));
  const workflow = WORKFLOW_LABELS[run.workflow] ?? run.workflow;
  const progress = run.progress ?? null;

  return (
    <SpaceBetween size="l">
      <ErrorAlert error={poll.error} what="Run" onRetry={poll.refresh} />
      <Header
        variant="h1"
        description={
          <SpaceBetween direction="horizontal" size="xs">
            <Mono>{run.id}</Mono>
            <CopyToClipboard
              variant="icon"
              textToCopy={run.id}
              copyButtonAriaLabel="Copy the run id"
              copySuccessText="Run id copied"
              copyErrorText="Could not copy the run id"
            />
          </SpaceBetween>
        }
        actions={
          run.status === "RUNNING" ? undefined : (
            <Button iconName="refresh" ariaLabel="Refresh run" onClick={poll.refresh} />
          )
        }
      >
        {workflow} run
      </Header>
      <Container header={<Header variant="h2">Summary</Header>}>
        <KeyValuePairs
          columns={4}
          ariaLabel="Run summary"
          items={[
            { label: "Status", value: <RunStatusIndicator status={run.status} /> },
            { label: "Workflow", value: workflow },
            {
              label: "Device",
              value: run.deviceId ? (
                <Link href={failuresHref(run.deviceId)} ariaLabel={`Failures of ${run.deviceId}`}>
                  {run.deviceId}
                </Link>
              ) : (
                "Whole fleet"
              ),
            },
            { label: "Duration", value: formatDuration(run.startedAt, run.endedAt) },
            { label: "Started", value: <Time iso={run.startedAt} /> },
            { label: "Ended", value: run.endedAt ? <Time iso={run.endedAt} /> : "Still running" },
            ...(run.error
              ? [
                  { label: "Error", value: causeLabel(run.error) },
                  { label: "Detail", value: run.cause ?? "—" },
                ]
              : []),
          ]}
        />
      </Container>
      {progress ? (
        <Container header={<Header variant="h2">Fan-out</Header>}>
          <ProgressBar
            label="Devices"
            ariaLabel="Fan-out progress"
            value={progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : 100}
            additionalInfo={`${progress.done} of ${plural(progress.total, "device")} done · ${progress.failed} failed`}
          />
        </Container>
      ) : null}
      <Table<NumberedStep>
        items={steps}
        trackBy={(s) => String(s.index)}
        columnDefinitions={stepColumns}
        wrapLines
        ariaLabels={{ tableLabel: "Workflow steps" }}
        header={
          <Header
            variant="h2"
            counter={`(${steps.length})`}
            description={
              run.stepsOmitted > 0
                ? `${plural(run.stepsOmitted, "step")} from the middle of the run are left out to keep the record small.`
                : "Every state of the workflow, in the order it ran."
            }
          >
            Steps
          </Header>
        }
        empty={
          <EmptyState title="No steps yet" subtitle="The run has not entered its first state." />
        }
      />
      {run.output !== null && run.output !== undefined ? (
        <ExpandableSection headerText="Run output" variant="container">
          <Box variant="code">
            <pre style={{ margin: 0, whiteSpace: "pre-wrap" }}>
              {JSON.stringify(run.output, null, 2)}
            </pre>
          </Box>
        </ExpandableSection>
      ) : null}
    </SpaceBetween>
  );
}
