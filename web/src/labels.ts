import type { StatusIndicatorProps } from "@cloudscape-design/components/status-indicator";
import { CAUSE_NAMES as CAUSES, type Cause } from "../../lib/contract/vocabulary.ts";
import type { AuthStatus, Operation, RunStatus, RunStep } from "./api/types.ts";

/** How each auth status reads and looks (docs/architecture.md, Domain). */
export const AUTH_STATUS: Record<
  AuthStatus,
  { label: string; type: StatusIndicatorProps.Type; description: string }
> = {
  KEY_BASED: {
    label: "Key based",
    type: "success",
    description: "Holds the current platform key.",
  },
  CUSTOM_KEY_BASED: {
    label: "Custom key based",
    type: "success",
    description: "An operator's own key is its credential.",
  },
  KEY_CONFLICT: {
    label: "Key conflict",
    type: "warning",
    description: "Reachable, but the current platform key is refused: resolve it.",
  },
  CREDENTIALS_BASED: {
    label: "Credentials based",
    type: "info",
    description: "Reachable by password only.",
  },
  HOST_KEY_CONFLICT: {
    label: "Host key conflict",
    type: "error",
    description: "The host key differs from the pinned one; no credential is sent to it.",
  },
  UNREACHABLE: {
    label: "Unreachable",
    type: "error",
    description: "keyheal could not connect; it heals on reconnect.",
  },
  RESOLVING: {
    label: "Resolving",
    type: "in-progress",
    description: "A workflow is working on this device.",
  },
  UNKNOWN: {
    label: "Not checked",
    type: "pending",
    description: "Registered, never checked.",
  },
};

/**
 * Failure causes by name, one for every cause of the contract; the handling step itself comes
 * from the API with each record.
 */
export const CAUSE_LABELS: Record<Cause, string> = {
  INVALID_PRIVATE_KEY: "Invalid private key",
  UNSUPPORTED_KEY_TYPE: "Unsupported key type",
  AUTH_REJECTED: "Authentication rejected",
  HOST_KEY_MISMATCH: "Host key mismatch",
  HOST_KEY_NOT_PINNED: "Host key not pinned",
  SECURITY_GROUP_BLOCKS_SSH: "Security group blocks SSH",
  CONNECTION_REFUSED: "Connection refused",
  CONNECTION_TIMEOUT: "Connection timed out",
  NETWORK_UNREACHABLE: "Network unreachable",
  CONNECTION_LOST: "Connection lost",
  INSTANCE_NOT_RUNNING: "Instance not running",
  SSH_CONFIG_MODIFIED: "SSH configuration modified",
  WRITE_FAILED: "authorized_keys write failed",
  CONCURRENT_MODIFICATION: "Concurrent modification",
  AUTHORIZED_KEYS_UNPARSEABLE: "authorized_keys unparseable",
  OUTPUT_TOO_LARGE: "Device output too large",
  REMOTE_PROTOCOL: "Unexpected remote command",
  SUDO_FAILED: "sudo refused",
  AUTHORIZED_KEYS_PATH_INVALID: "authorized_keys path invalid",
  USER_CREATE_FAILED: "Admin user not created",
  TIMEOUT: "Timed out",
  INTERNAL: "Internal error",
};

/** The pages filter by cause as plain text. */
export const CAUSE_NAMES: readonly string[] = CAUSES;

export function causeLabel(cause: string | null | undefined): string {
  if (!cause) return "";
  return (CAUSE_LABELS as Record<string, string>)[cause] ?? cause;
}

export const OPERATION_LABELS: Record<Operation, string> = {
  DETECT: "Detect",
  REPLACE: "Replace",
  VERIFY: "Verify",
  ROLLBACK: "Roll back",
  ROTATE: "Rotate",
  RESOLVE: "Resolve",
};

export const RUN_STATUS: Record<
  RunStatus | RunStep["status"],
  { label: string; type: StatusIndicatorProps.Type }
> = {
  RUNNING: { label: "Running", type: "in-progress" },
  SUCCEEDED: { label: "Succeeded", type: "success" },
  FAILED: { label: "Failed", type: "error" },
  CAUGHT: { label: "Failed, caught", type: "warning" },
};

export const WORKFLOW_LABELS: Record<string, string> = {
  reconnect: "Reconnect",
  resolve: "Resolve key conflict",
  rotate: "Rotate platform key",
};

const pad = (n: number) => String(n).padStart(2, "0");

/** `2025-11-30 08:05:12` in the browser's time zone. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAge(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** `850 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDuration(startIso: string, endIso: string | null | undefined): string {
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  const ms = Math.max(0, end - new Date(startIso).getTime());
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
