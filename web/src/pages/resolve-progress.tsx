import Box from "@cloudscape-design/components/box";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { useEffect, useState } from "react";
import { api, query, runPath } from "../api/client.ts";
import type { Failure, Job, JobRun, Page, Run } from "../api/types.ts";
import { Cause, RunLink, RunStatusIndicator } from "../components/display.tsx";
import { ErrorAlert } from "../components/states.tsx";
import { usePoll } from "../hooks/use-poll.ts";
import { plural } from "../labels.ts";

export interface StartedRun {
  deviceId: string;
  runId: string;
  /** The job the run belongs to; null when the runtime answered without jobs. */
  jobId: string | null;
}

const REFRESH_MS = 1000;

/** Every started run's current state: through its job, or on its own. */
async function follow(runs: readonly StartedRun[], jobIds: readonly string[]): Promise<JobRun[]> {
  const jobs = await Promise.all(
    jobIds.map((id) => api<Job>("GET", `/jobs/${encodeURIComponent(id)}`)),
  );
  const byRun = new Map<string, JobRun>();
  for (const job of jobs) for (const run of job.runs) byRun.set(run.runId, run);
  const loose = runs.filter((r) => !byRun.has(r.runId));
  const single = await Promise.all(loose.map((r) => api<Run>("GET", runPath(r.runId))));
  single.forEach((run, i) => {
    const started = loose[i] as StartedRun;
    byRun.set(started.runId, {
      deviceId: started.deviceId,
      runId: started.runId,
      status: run.status,
      error: run.error,
      cause: run.cause,
    });
  });
  return runs.map(
    (r) =>
      byRun.get(r.runId) ?? {
        deviceId: r.deviceId,
        runId: r.runId,
        status: "RUNNING",
        error: null,
        cause: null,
      },
  );
}

/** A failure record's run id is the execution id (`local:resolve:<name>` locally). */
function sameRun(failureRunId: string | null, runId: string): boolean {
  return failureRunId === runId || Boolean(failureRunId?.endsWith(`:${runId}`));
}

/** The failure records the failed runs left, for their cause and handling step. */
async function failuresOf(failed: readonly JobRun[]): Promise<Record<string, Failure>> {
  const found: Record<string, Failure> = {};
  await Promise.all(
    failed.map(async (run) => {
      const page = await api<Page<Failure>>(
        "GET",
        `/failures${query({ deviceId: run.deviceId, limit: 20 })}`,
      );
      const record = page.items.find((f) => sameRun(f.runId, run.runId));
      if (record) found[run.runId] = record;
    }),
  );
  return found;
}

/** The resolve runs' progress: a bar over all of them, then each device's outcome. */
export function ResolveProgress({
  runs,
  jobIds,
  mode,
}: {
  runs: readonly StartedRun[];
  jobIds: readonly string[];
  mode: "space-key" | "custom-key";
}) {
  const key = runs.map((r) => r.runId).join(",");
  // Stops asking once every run has ended (the interval change makes one last call).
  const [ended, setEnded] = useState(false);
  const firstPoll = usePoll(() => follow(runs, jobIds), key, ended ? 0 : REFRESH_MS);
  const states =
    firstPoll.data ??
    runs.map((r) => ({ ...r, status: "RUNNING" as const, error: null, cause: null }));
  const succeeded = states.filter((s) => s.status === "SUCCEEDED").length;
  const failed = states.filter((s) => s.status === "FAILED");
  const running = states.length - succeeded - failed.length;
  const done = running === 0 && firstPoll.data !== undefined;
  useEffect(() => setEnded(done), [done]);
  const failedKey = failed.map((f) => f.runId).join(",");
  const records = usePoll(() => failuresOf(failed), failedKey, done ? 0 : REFRESH_MS * 3);

  const percent =
    states.length === 0 ? 100 : Math.round(((states.length - running) / states.length) * 100);
  const how = mode === "space-key" ? "with the admin password" : "with your key";

  return (
    <SpaceBetween size="m">
      <ErrorAlert error={firstPoll.error} what="Run progress" onRetry={firstPoll.refresh} />
      <ProgressBar
        label={`Resolving ${plural(states.length, "device")} ${how}`}
        description={
          done
            ? "Every run has ended."
            : "Each device runs on its own; closing this window does not stop them."
        }
        value={percent}
        status={done ? (failed.length > 0 ? "error" : "success") : "in-progress"}
        resultText={
          failed.length > 0
            ? `${succeeded} resolved, ${failed.length} failed: see the handling step of each below.`
            : states.length === 1
              ? `${states[0]?.deviceId} resolved.`
              : `All ${states.length} devices resolved.`
        }
        additionalInfo={`${succeeded} succeeded · ${failed.length} failed · ${running} running`}
        ariaLabel="Resolve progress"
      />
      <Table<JobRun>
        variant="embedded"
        items={states}
        trackBy="runId"
        wrapLines
        ariaLabels={{ tableLabel: "Resolve runs" }}
        columnDefinitions={[
          { id: "device", header: "Device", isRowHeader: true, cell: (r) => r.deviceId },
          { id: "status", header: "Status", cell: (r) => <RunStatusIndicator status={r.status} /> },
          {
            id: "outcome",
            header: "Outcome",
            cell: (r) => {
              if (r.status === "RUNNING") return "Working…";
              if (r.status === "SUCCEEDED") return "Resolved";
              const record = records.data?.[r.runId];
              return (
                <SpaceBetween size="xxs">
                  <Cause cause={record?.cause ?? r.cause} />
                  {record?.hint ? <Box variant="p">{record.hint}</Box> : null}
                  {record?.message ? (
                    <Box variant="small" color="text-body-secondary">
                      {record.message}
                    </Box>
                  ) : null}
                  {!record && r.error ? <Box variant="small">{r.error}</Box> : null}
                </SpaceBetween>
              );
            },
          },
          {
            id: "run",
            header: "Run",
            cell: (r) => <RunLink runId={r.runId} ariaLabel={`View run for ${r.deviceId}`} />,
          },
        ]}
      />
    </SpaceBetween>
  );
}
