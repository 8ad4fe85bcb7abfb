import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { api, messageOf } from "../../api/client.ts";
import type { Failure } from "../../api/types.ts";
import { useFlash } from "../../hooks/use-flash.tsx";
import { runHref } from "../../hooks/use-route.ts";

/**
 * Retry of failure records: one reconnect run per record, started one by one; a flash links
 * each new run and names the records whose retry did not start.
 */
export function useRetry(onDone: () => void) {
  const flash = useFlash();
  const [retrying, setRetrying] = useState(false);

  async function retry(selected: readonly Failure[]) {
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
    onDone();
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

  return { retrying, retry };
}
