import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { WorkflowName } from "./workflow-names.ts";

export type { WorkflowName } from "./workflow-names.ts";

/** What starting a named run gave. */
export interface StartResult {
  /** The run's id: the execution ARN on AWS, the run name in local mode. */
  runId: string;
  /** False when a run of that name already existed: a duplicate event starts no second run. */
  started: boolean;
}

/**
 * Starts workflow runs by name. The name is the idempotency key: asking twice for the same
 * name starts one run, and the second answer is `started: false` with the same `runId`.
 */
export interface WorkflowStarter {
  start(workflow: WorkflowName, name: string, input: object): Promise<StartResult>;
}

/** A state machine ARN that no execution ARN can be built from. */
export class InvalidStateMachineArnError extends Error {
  readonly workflow: WorkflowName;
  readonly arn: string;

  constructor(workflow: WorkflowName, arn: string) {
    super(
      `The ${workflow} state machine ARN ${JSON.stringify(arn)} is not a state machine ARN ` +
        "(arn:<partition>:states:<region>:<account>:stateMachine:<name>).",
    );
    this.name = "InvalidStateMachineArnError";
    this.workflow = workflow;
    this.arn = arn;
  }
}

const STATE_MACHINE_ARN = /^(arn:[a-z-]+:states:[a-z0-9-]+:\d{12}):stateMachine:([A-Za-z0-9_-]+)$/;

/**
 * The ARN of execution `name` of a state machine:
 * `arn:aws:states:r:a:stateMachine:M` → `arn:aws:states:r:a:execution:M:name`.
 *
 * @returns `undefined` when `stateMachineArn` is not a state machine ARN.
 */
export function executionArnOf(stateMachineArn: string, name: string): string | undefined {
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!match) return undefined;
  return `${match[1]}:execution:${match[2]}:${name}`;
}

export interface StepFunctionsStarterOptions {
  client: SFNClient;
  /** The deployed state machine of each workflow. */
  stateMachineArns: Readonly<Record<WorkflowName, string>>;
}

/**
 * Starts Step Functions executions named by the caller. A name already used (a duplicate
 * event) is `ExecutionAlreadyExists`, answered with the existing execution's ARN.
 *
 * Standard workflows answer a repeat of a still-running execution's name *and* input with the
 * original response instead of the error, so such a duplicate reports `started: true` with the
 * same `runId`; the reconnect workflow's device lease keeps it from doing any work twice.
 */
export class StepFunctionsStarter implements WorkflowStarter {
  readonly #client: SFNClient;
  readonly #arns: Readonly<Record<WorkflowName, string>>;

  /** @throws InvalidStateMachineArnError when an ARN in the map is not a state machine ARN. */
  constructor(options: StepFunctionsStarterOptions) {
    for (const [workflow, arn] of Object.entries(options.stateMachineArns)) {
      if (executionArnOf(arn, "x") === undefined) {
        throw new InvalidStateMachineArnError(workflow as WorkflowName, arn);
      }
    }
    this.#client = options.client;
    this.#arns = options.stateMachineArns;
  }

  /** @throws the SDK's error for anything but `ExecutionAlreadyExists` (throttling, access). */
  async start(workflow: WorkflowName, name: string, input: object): Promise<StartResult> {
    const stateMachineArn = this.#arns[workflow];
    try {
      const output = await this.#client.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return {
        runId: output.executionArn ?? (executionArnOf(stateMachineArn, name) as string),
        started: true,
      };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) {
        // Checked in the constructor, so the ARN always parses.
        return { runId: executionArnOf(stateMachineArn, name) as string, started: false };
      }
      throw error;
    }
  }
}

/**
 * What {@link LocalStarter} drives: the local runtime's interpreter (`LocalWorkflowRunner` in
 * lib/local), declared here so that this layer never imports the runtime above it
 * (docs/architecture.md, Direction of dependency).
 */
export interface LocalRunLauncher {
  start(
    workflow: WorkflowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ run: { id: string }; started: boolean }>;
}

/** Starts runs on the local runtime's interpreter; the run id is the run name. */
export class LocalStarter implements WorkflowStarter {
  readonly #runner: LocalRunLauncher;

  constructor(runner: LocalRunLauncher) {
    this.#runner = runner;
  }

  async start(workflow: WorkflowName, name: string, input: object): Promise<StartResult> {
    const { run, started } = await this.#runner.start(
      workflow,
      name,
      input as Record<string, unknown>,
    );
    return { runId: run.id, started };
  }
}
