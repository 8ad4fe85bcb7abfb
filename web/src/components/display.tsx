import Box from "@cloudscape-design/components/box";
import Link from "@cloudscape-design/components/link";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import type { AuthStatus, RunStatus, RunStep } from "../api/types.ts";
import { runHref } from "../hooks/use-route.ts";
import { AUTH_STATUS, causeLabel, formatAge, formatTime, RUN_STATUS } from "../labels.ts";

export function AuthStatusIndicator({ status }: { status: AuthStatus }) {
  const known = AUTH_STATUS[status] ?? { label: status, type: "info" as const, description: "" };
  return (
    <span title={known.description}>
      <StatusIndicator type={known.type} wrapText={false}>
        {known.label}
      </StatusIndicator>
    </span>
  );
}

export function RunStatusIndicator({ status }: { status: RunStatus | RunStep["status"] }) {
  const known = RUN_STATUS[status] ?? { label: status, type: "info" as const };
  return (
    <StatusIndicator type={known.type} wrapText={false}>
      {known.label}
    </StatusIndicator>
  );
}

/** Local date and time, with the age under it and the ISO instant on hover. */
export function Time({ iso, age = true }: { iso: string | null | undefined; age?: boolean }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={iso}>
      <span style={{ whiteSpace: "nowrap" }}>{formatTime(iso)}</span>
      {age ? (
        <Box variant="small" color="text-body-secondary" display="block">
          {formatAge(iso)}
        </Box>
      ) : null}
    </time>
  );
}

/** A cause's readable name with its code (what the CLI and API filter by) underneath. */
export function Cause({ cause }: { cause: string | null | undefined }) {
  if (!cause) return <>—</>;
  return (
    <div>
      <div>{causeLabel(cause)}</div>
      <Box variant="small" color="text-body-secondary">
        {cause}
      </Box>
    </div>
  );
}

export function RunLink({
  runId,
  ariaLabel,
  children,
}: {
  runId: string;
  ariaLabel?: string;
  children?: React.ReactNode;
}) {
  return (
    <Link href={runHref(runId)} ariaLabel={ariaLabel}>
      {children ?? "View run"}
    </Link>
  );
}

export function Mono({ children }: { children: React.ReactNode }) {
  return (
    <Box variant="code" fontSize="body-s">
      {children}
    </Box>
  );
}
