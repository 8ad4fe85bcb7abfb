/**
 * The JSON the ops API answers with, under the console's names. The shapes are the contract's
 * (lib/contract/api.ts, docs/architecture.md, Contracts), imported as types only so that no
 * schema or zod enters the bundle; the lists of names come from lib/contract/vocabulary.ts,
 * which imports nothing.
 */
import type {
  DeviceView,
  FailureStatsView,
  FailureView,
  JobRunView,
  JobView,
  KeyView,
  PageView,
  ResolveStarted as ResolveStartedView,
  RunProgressView,
  RunStepView,
  RunView,
} from "../../../lib/contract/api.ts";

export {
  AUTH_STATUSES,
  type AuthStatus,
  KEY_TYPES,
  type KeyType,
  OPERATIONS,
  type Operation,
  type RunStatus,
  USERNAME_PATTERN,
} from "../../../lib/contract/vocabulary.ts";

export type Page<T> = PageView<T>;
export type Device = DeviceView;
export type KeyGeneration = KeyView;
export type Failure = FailureView;
/** The pages filter by cause as plain text (a cause this console does not know shows by name). */
export type FailureStats = Omit<FailureStatsView, "items"> & {
  items: Array<Omit<FailureStatsView["items"][number], "cause"> & { cause: string }>;
};
export type RunStep = RunStepView;
export type RunProgress = RunProgressView;
export type Run = RunView;
export type JobRun = JobRunView;
export type Job = JobView;
export type ResolveStarted = ResolveStartedView;

/** The request bodies the console sends, as the API checks them (lib/contract/requests.ts). */
export type {
  ImportKeyRequest,
  ResolveRequest,
  RotateRequest,
} from "../../../lib/contract/requests.ts";
