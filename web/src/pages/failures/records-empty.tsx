import Button from "@cloudscape-design/components/button";
import { EmptyState, LoadFailedState } from "../../components/states.tsx";

/** What the records table says when it lists nothing: an error, no match, or no failures. */
export function RecordsEmpty({
  failed,
  filtered,
  filterText,
  onRetryLoad,
  onClear,
}: {
  /** The list could not be loaded. */
  failed: boolean;
  filtered: boolean;
  /** The filters in words. */
  filterText: string;
  onRetryLoad: () => void;
  onClear: () => void;
}) {
  if (failed) {
    return <LoadFailedState what="Failed tasks" onRetry={onRetryLoad} />;
  }
  if (filtered) {
    return (
      <EmptyState
        title="No failed tasks match the filters"
        subtitle={`Nothing for ${filterText}.`}
        action={<Button onClick={onClear}>Clear filters</Button>}
      />
    );
  }
  return (
    <EmptyState
      title="No failed tasks"
      subtitle="Every operation succeeded, or the records were deleted. New failures appear here with their cause and handling step."
      action={<Button href="#/devices">View devices</Button>}
    />
  );
}
