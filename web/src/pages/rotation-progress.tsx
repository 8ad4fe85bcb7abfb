import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useEffect, useState } from "react";
import { api, runPath } from "../api/client.ts";
import type { Run } from "../api/types.ts";
import { RunLink } from "../components/display.tsx";
import { ErrorAlert } from "../components/states.tsx";
import { usePoll } from "../hooks/use-poll.ts";
import { failuresHref } from "../hooks/use-route.ts";
import { formatDuration, plural } from "../labels.ts";

const REFRESH_MS = 1000;

/** What the rotation is doing, from its steps, while the fan-out has not listed the fleet. */
function phaseOf(run: Run): string {
  const last = [...run.steps].reverse().find((s) => s.status === "RUNNING") ?? run.steps.at(-1);
  return last ? `Step: ${last.name}` : "Starting";
}

/** A rotation's fan-out: devices done out of the fleet, and how many failed. */
export function RotationProgress({
  runId,
  onDismiss,
  onEnded,
}: {
  runId: string;
  onDismiss: () => void;
  onEnded: () => void;
}) {
  const [ended, setEnded] = useState(false);
  const poll = usePoll(() => api<Run>("GET", runPath(runId)), runId, ended ? 0 : REFRESH_MS);
  const run = poll.data;
  const done = run !== undefined && run.status !== "RUNNING";
  useEffect(() => {
    if (done) {
      setEnded(true);
      onEnded();
    }
  }, [done, onEnded]);

  const progress = run?.progress ?? null;
  const value = done
    ? 100
    : progress && progress.total > 0
      ? Math.round((progress.done / progress.total) * 100)
      : 0;
  const succeeded = progress ? progress.done - progress.failed : 0;

  return (
    <section aria-label="Key rotation">
      <Container
        header={
          <Header
            variant="h2"
            description={
              run
                ? run.endedAt
                  ? `Took ${formatDuration(run.startedAt, run.endedAt)}`
                  : `Running for ${formatDuration(run.startedAt, null)}`
                : undefined
            }
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <RunLink runId={runId} ariaLabel="View the rotation run" />
                {done ? <Button onClick={onDismiss}>Dismiss</Button> : null}
              </SpaceBetween>
            }
          >
            Key rotation
          </Header>
        }
      >
        <SpaceBetween size="m">
          <ErrorAlert error={poll.error} what="Rotation" onRetry={poll.refresh} />
          {run ? (
            <ProgressBar
              label="Installing the new key on the fleet"
              ariaLabel="Rotation progress"
              description={
                progress
                  ? `Devices that are down get a failure record and heal when they reconnect.`
                  : done
                    ? undefined
                    : `${phaseOf(run)}: the fleet is listed once the new generation is made.`
              }
              value={value}
              status={done ? (run.status === "SUCCEEDED" ? "success" : "error") : "in-progress"}
              additionalInfo={
                progress
                  ? `${progress.done} of ${plural(progress.total, "device")} done · ${succeeded} updated · ${progress.failed} failed`
                  : undefined
              }
              resultText={
                run.status === "SUCCEEDED"
                  ? progress
                    ? `Rotation finished: ${succeeded} of ${plural(progress.total, "device")} updated${progress.failed > 0 ? `, ${progress.failed} failed` : ""}.`
                    : "Rotation finished."
                  : `Rotation failed${run.error ? `: ${run.error}` : ""}.`
              }
            />
          ) : (
            <Box color="text-status-inactive">Loading the rotation</Box>
          )}
          {done && progress && progress.failed > 0 ? (
            <Alert type="warning" header={`${plural(progress.failed, "device")} not updated`}>
              They keep an earlier generation, which stays usable for healing. Each has a failure
              record with its cause and handling step; keyheal heals them when they reconnect.{" "}
              <Link href={failuresHref()}>View failed tasks</Link>
            </Alert>
          ) : null}
          {done && run?.status === "FAILED" && run.cause ? (
            <Box variant="small" color="text-body-secondary">
              {run.cause}
            </Box>
          ) : null}
        </SpaceBetween>
      </Container>
    </section>
  );
}
