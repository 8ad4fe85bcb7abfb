import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Modal from "@cloudscape-design/components/modal";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { ApiError, api, messageOf, query } from "../api/client.ts";
import type { Failure } from "../api/types.ts";
import { plural } from "../labels.ts";

export interface FailureFilter {
  cause?: string | undefined;
  deviceId?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** Records per DELETE call, so the bar moves on a long list. */
const BATCH = 100;
/** A bound on the loop: 1,000 batches are 100,000 records; an operator can start again. */
const MAX_BATCHES = 1000;

/**
 * Confirms and deletes failure records: the selected ones one by one, or every record matching
 * the filters in batches, with the count so far.
 */
export function DeleteFailuresModal({
  what,
  selected,
  filter,
  filterText,
  matching,
  onClose,
}: {
  what: "selected" | "all";
  selected: readonly Failure[];
  filter: FailureFilter;
  filterText: string;
  matching: number | undefined;
  /** With the number deleted, or null when nothing was done. */
  onClose: (deleted: number | null) => void;
}) {
  const [deleted, setDeleted] = useState<number | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const total = what === "selected" ? selected.length : matching;

  async function run() {
    setRunning(true);
    setError(null);
    let count = 0;
    setDeleted(0);
    try {
      if (what === "selected") {
        for (const failure of selected) {
          await api("DELETE", `/failures/${encodeURIComponent(failure.id)}`).catch((e: unknown) => {
            // Gone already (expired, or deleted elsewhere): that is what was asked.
            if (!(e instanceof ApiError && e.status === 404)) throw e;
          });
          count += 1;
          setDeleted(count);
        }
      } else {
        let remaining = true;
        for (let batch = 0; remaining && batch < MAX_BATCHES; batch++) {
          const answer = await api<{ deleted: number; more?: boolean }>(
            "DELETE",
            `/failures${query({ ...filter, limit: BATCH })}`,
          );
          count += answer.deleted;
          setDeleted(count);
          remaining = answer.more === true;
        }
        if (remaining) {
          setMore(true);
          setRunning(false);
          return;
        }
      }
      setRunning(false);
      onClose(count);
    } catch (e) {
      setRunning(false);
      setError(messageOf(e));
    }
  }

  const title =
    what === "selected"
      ? `Delete ${plural(selected.length, "failure record")}?`
      : "Delete all failed tasks?";
  const scope =
    what === "selected"
      ? `The selected ${plural(selected.length, "record")} (${[...new Set(selected.map((f) => f.deviceId))].join(", ")})`
      : filterText
        ? `Every failure record matching ${filterText}${matching !== undefined ? ` (${matching})` : ""}`
        : `Every failure record${matching !== undefined ? ` (${matching})` : ""}`;

  return (
    <Modal
      visible
      onDismiss={() => {
        if (!running) onClose(deleted);
      }}
      closeAriaLabel="Close delete failures"
      header={title}
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" disabled={running} onClick={() => onClose(deleted)}>
              Cancel
            </Button>
            <Button
              variant="primary"
              loading={running}
              loadingText="Deleting"
              onClick={() => void run()}
            >
              {what === "selected" ? "Delete" : "Delete all"}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        <Box variant="p">
          {scope} will be deleted. This cannot be undone. The devices are not changed: a record only
          tells what failed and what to do about it.
        </Box>
        {deleted !== null ? (
          <ProgressBar
            label="Deleting failure records"
            value={total ? Math.min(100, Math.round((deleted / total) * 100)) : running ? 0 : 100}
            additionalInfo={`${deleted}${total !== undefined ? ` of ${total}` : ""} deleted`}
            ariaLabel="Delete progress"
          />
        ) : null}
        {more ? (
          <Alert type="info">
            More records match than one pass deletes; choose Delete all again.
          </Alert>
        ) : null}
        {error ? (
          <Alert type="error" header="Deleting stopped">
            {error}
            {deleted ? ` ${plural(deleted, "record")} had been deleted.` : ""}
          </Alert>
        ) : null}
      </SpaceBetween>
    </Modal>
  );
}
