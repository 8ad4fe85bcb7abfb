/**
 * The JSON the ops API answers with (docs/architecture.md, Contracts and the API contract). The console keeps its own
 * copy of the shapes: it is built for the browser and must not pull server code into the bundle.
 */

export const AUTH_STATUSES = [
  "UNKNOWN",
  "KEY_BASED",
  "KEY_CONFLICT",
  "CUSTOM_KEY_BASED",
  "CREDENTIALS_BASED",
  "HOST_KEY_CONFLICT",
  "UNREACHABLE",
  "RESOLVING",
] as const;
export type AuthStatus = (typeof AUTH_STATUSES)[number];

export const OPERATIONS = ["DETECT", "REPLACE", "VERIFY", "ROLLBACK", "ROTATE", "RESOLVE"] as const;
export type Operation = (typeof OPERATIONS)[number];

export const KEY_TYPES = ["ed25519", "rsa", "ecdsa"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Device {
  id: string;
  host: string;
  port: number;
  adminUser: string;
  status: AuthStatus;
  keyGeneration: number | null;
  hostKeyFingerprint: string | null;
  lastFailureCause: string | null;
  instanceId: string | null;
  region: string | null;
  authorizedKeysPath: string | null;
  createdAt: string;
  updatedAt: string;
  lastCheckedAt: string | null;
}

export interface KeyGeneration {
  generation: number;
  algorithm: string;
  fingerprint: string;
  status: "CURRENT" | "PREVIOUS" | "RETIRED";
  createdAt: string;
  publicKey: string;
}

export interface Failure {
  id: string;
  deviceId: string;
  operation: Operation;
  cause: string;
  message: string;
  hint: string;
  attempt: number;
  keyGeneration: number | null;
  runId: string | null;
  occurredAt: string;
  expiresAt: string;
  retriedByRunId: string | null;
}

export interface FailureStats {
  since: string | null;
  until: string | null;
  total: number;
  items: Array<{ cause: string; count: number; hint: string }>;
}

export type RunStatus = "RUNNING" | "SUCCEEDED" | "FAILED";

export interface RunStep {
  name: string;
  type?: string | null;
  status: RunStatus | "CAUGHT";
  startedAt: string;
  endedAt?: string | null;
  error?: string | null;
  cause?: string | null;
  caughtBy?: string | null;
  retries?: number | null;
}

export interface RunProgress {
  total: number;
  done: number;
  failed: number;
}

export interface Run {
  id: string;
  workflow: string;
  deviceId: string | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  cause: string | null;
  steps: RunStep[];
  stepsOmitted: number;
  output: unknown;
  progress?: RunProgress | null;
}

export interface JobRun {
  deviceId: string;
  runId: string;
  status: RunStatus;
  error: string | null;
  cause: string | null;
}

export interface Job {
  id: string;
  kind: "resolve";
  status: RunStatus;
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  createdAt: string;
  runs: JobRun[];
}

export interface ResolveStarted {
  /** Absent from runtimes older than jobs: the console then follows the runs one by one. */
  jobId?: string;
  runs: Array<{ deviceId: string; runId: string }>;
}

export type ResolveRequest =
  | {
      mode: "space-key";
      /** Each device's own password, else the top-level one. */
      devices: Array<{ id: string; adminUser: string; loginUser?: string; password?: string }>;
      password?: string;
    }
  | {
      mode: "custom-key";
      devices: Array<{ id: string; adminUser: string }>;
      privateKey: string;
      passphrase?: string;
      adopt?: boolean;
    };
