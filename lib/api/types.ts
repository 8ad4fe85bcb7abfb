import type { JobStore } from "../jobs/types.ts";
import type { RunReader } from "../store/runs.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import type { IntakeDeps, IntakeOptions } from "../workflows/intake.ts";
import type { WorkflowStarter } from "../workflows/starters.ts";

/** What the API's use cases run against: the same domain the workflows use. */
export interface ApiContext {
  deps: WorkflowDeps;
  /**
   * Run history (`GET /runs/{id}`): the run store in local mode, Step Functions' execution
   * history on AWS.
   */
  runs: RunReader;
  /** Operators' actions over many devices (`GET /jobs/{id}`). */
  jobs: JobStore;
  /** Starts rotate, resolve and retry runs. */
  starter: WorkflowStarter;
  /** `POST /events` goes through the same intake as EventBridge. */
  intake: IntakeDeps;
  intakeOptions?: IntakeOptions;
  /** Devices a rotation installs at once when the request does not say (AWS: 100). */
  rotateConcurrency?: number;
  /** How long the operator's resolve secrets live; default 900 s. */
  resolveSecretTtlSeconds?: number;
}

/** A request, transport stripped: path parameters decoded, query as one value per name. */
export interface ApiRequest {
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /** Parsed JSON; `undefined` for an empty body. */
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type ApiHandler = (ctx: ApiContext, request: ApiRequest) => Promise<ApiResponse>;
