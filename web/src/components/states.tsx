import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Input from "@cloudscape-design/components/input";
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

/** What a table shows when its list could not be loaded: the Alert above it says why. */
export function LoadFailedState({ what, onRetry }: { what: string; onRetry: () => void }) {
  return (
    <EmptyState
      title={`${what} could not be loaded`}
      subtitle="The message above says why."
      action={<Button onClick={onRetry}>Try again</Button>}
    />
  );
}

/** A password or passphrase field: masked, never offered to the browser's autofill. */
export function SecretInput({
  value,
  onChange,
  ariaLabel,
  ariaRequired,
  invalid,
}: {
  value: string;
  onChange: (value: string) => void;
  ariaLabel: string;
  ariaRequired?: boolean;
  invalid?: boolean;
}) {
  return (
    <Input
      type="password"
      value={value}
      onChange={({ detail }) => onChange(detail.value)}
      ariaLabel={ariaLabel}
      {...(ariaRequired ? { ariaRequired } : {})}
      {...(invalid ? { invalid } : {})}
      autoComplete="off"
    />
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
