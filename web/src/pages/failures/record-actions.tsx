import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";

/** The failure records' actions: refresh, retry and delete the selected, delete all matching. */
export function RecordActions({
  selectedCount,
  listed,
  retrying,
  onRefresh,
  onRetry,
  onDelete,
}: {
  selectedCount: number;
  /** Records on the current page. */
  listed: number;
  retrying: boolean;
  onRefresh: () => void;
  onRetry: () => void;
  onDelete: (what: "selected" | "all") => void;
}) {
  return (
    <SpaceBetween direction="horizontal" size="xs">
      <Button iconName="refresh" ariaLabel="Refresh failed tasks" onClick={onRefresh} />
      <Button
        disabled={selectedCount === 0}
        disabledReason="Select the failures to retry."
        loading={retrying}
        onClick={onRetry}
      >
        {selectedCount > 1 ? `Retry (${selectedCount})` : "Retry"}
      </Button>
      <Button
        disabled={selectedCount === 0}
        disabledReason="Select the failures to delete."
        onClick={() => onDelete("selected")}
      >
        {selectedCount > 1 ? `Delete (${selectedCount})` : "Delete"}
      </Button>
      <Button
        disabled={listed === 0}
        disabledReason="There is nothing to delete."
        onClick={() => onDelete("all")}
      >
        Delete all
      </Button>
    </SpaceBetween>
  );
}
