import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { ReactNode } from "react";
import { ApiError, ApiUnreachableError, messageOf } from "../api/client.ts";

/** The box a table shows when it has nothing: what it means, and what to do. */
export function EmptyState({
  title,
  subtitle,
  action,
}: {
  title: string;
  subtitle?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <Box textAlign="center" color="inherit" padding={{ vertical: "l" }}>
      <SpaceBetween size="xxs">
        <Box variant="strong" color="inherit">
          {title}
        </Box>
        {subtitle ? (
          <Box variant="p" color="text-body-secondary">
            {subtitle}
          </Box>
        ) : null}
      </SpaceBetween>
      {action ? <Box margin={{ top: "s" }}>{action}</Box> : null}
    </Box>
  );
}

function headerOf(error: unknown, what: string): string {
  if (error instanceof ApiUnreachableError) return "The keyheal API is not answering";
  if (error instanceof ApiError && error.status === 404) return `${what}: not found`;
  return `Could not load ${what.toLowerCase()}`;
}

/** An error from the API, with its own message and a way to try again. */
export function ErrorAlert({
  error,
  what,
  onRetry,
}: {
  error: unknown;
  what: string;
  onRetry?: () => void;
}) {
  if (!error) return null;
  return (
    <Alert
      type="error"
      header={headerOf(error, what)}
      action={onRetry ? <Button onClick={onRetry}>Try again</Button> : undefined}
    >
      {messageOf(error)}
    </Alert>
  );
}
