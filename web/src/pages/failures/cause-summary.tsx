import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { FailureStats } from "../../api/types.ts";
import type { Poll } from "../../hooks/use-poll.ts";
import { causeLabel } from "../../labels.ts";

/** "Failures by cause": a count and handling step per cause; a count lists that cause. */
export function CauseSummary({
  stats,
  scope,
  filtered,
  onChooseCause,
}: {
  stats: Poll<FailureStats>;
  /** The device and time range the counts are for, in words (empty: all records). */
  scope: string;
  filtered: boolean;
  onChooseCause: (cause: string) => void;
}) {
  return (
    <Container
      header={
        <Header
          variant="h2"
          counter={stats.data ? `(${stats.data.total})` : undefined}
          description={
            scope
              ? `Counts for ${scope}. Choose a cause to list its failures.`
              : "Choose a cause to list its failures."
          }
        >
          Failures by cause
        </Header>
      }
    >
      {stats.loading ? (
        <Box color="text-status-inactive">Loading counts</Box>
      ) : stats.error && !stats.data ? (
        <Box color="text-status-inactive">Counts are unavailable.</Box>
      ) : stats.data && stats.data.items.length > 0 ? (
        <ColumnLayout columns={4} variant="text-grid" minColumnWidth={200}>
          {stats.data.items.map((s) => (
            <SpaceBetween size="xs" key={s.cause}>
              <Box variant="awsui-key-label">{causeLabel(s.cause)}</Box>
              <Link
                variant="awsui-value-large"
                onFollow={(event) => {
                  event.preventDefault();
                  onChooseCause(s.cause);
                }}
                href={`#/failures`}
                ariaLabel={`${s.count} ${causeLabel(s.cause)}: show them`}
              >
                {s.count}
              </Link>
              <Box variant="small" color="text-body-secondary">
                {s.hint}
              </Box>
            </SpaceBetween>
          ))}
        </ColumnLayout>
      ) : (
        <Box color="text-body-secondary">No failures{filtered ? " for these filters" : ""}.</Box>
      )}
    </Container>
  );
}
