/**
 * Step Functions on this machine: every state machine of the template runs its DefinitionString
 * (the file asset CDK uploads, with DefinitionSubstitutions applied as CloudFormation applies
 * them) in aws-local-stepfunctions, each Task bound to the function its Resource ARN names. The
 * API the functions call is served over HTTP in Step Functions' own protocol (JSON 1.0,
 * `X-Amz-Target: AWSStepFunctions.<Operation>`), so their SFNClient reaches it through
 * AWS_ENDPOINT_URL_SFN unchanged: StartExecution, DescribeExecution, GetExecutionHistory,
 * StopExecution, ListExecutions and DescribeMapRun, with ARNs and history events in AWS's shapes.
 *
 * The one adaptation is lib/local/distributed-map.ts's (the interpreter has no Distributed Map):
 * the Map runs inline, and the parent's history shows what AWS shows for a Distributed Map — a
 * MapRunStarted event and no iterations — with DescribeMapRun counting the items.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  DescribeExecutionOutput,
  DescribeMapRunOutput,
  ExecutionStatus,
  HistoryEvent,
} from "@aws-sdk/client-sfn";
import { StateMachine } from "aws-local-stepfunctions";
import {
  COUNT_FAILURE_STATE,
  FailureTallies,
  inlineDistributedMaps,
  READ_ITEMS_SUFFIX,
  readItems,
} from "../../lib/local/distributed-map.ts";
import type { ManifestStore } from "../../lib/workflows/manifests.ts";
import type { CloudModel } from "./cloud-model.ts";
import type { LambdaHost } from "./lambda-host.ts";
import { ACCOUNT, type LocalTemplate, PARTITION, REGION } from "./template.ts";

type Json = Parameters<StateMachine["run"]>[0];
type AslState = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  ItemProcessor?: { ProcessorConfig?: { Mode?: string }; States: Record<string, AslState> };
  Branches?: Array<{ States: Record<string, AslState> }>;
};
type Definition = { StartAt: string; States: Record<string, AslState> };
type LogEvent = {
  type: string;
  timestamp: number;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
  Error?: string;
  Cause?: unknown;
  input?: unknown;
  output?: unknown;
};

/** An AWS API error: `__type` is what the SDK turns into the exception class. */
export class SfnError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

interface Machine {
  arn: string;
  /** Every Retry and Wait shortened (see {@link TIME_COMPRESSION_MS}). */
  retryIntervals: Record<string, number[]>;
  waitTimes: Record<string, number>;
  name: string;
  interpreter: StateMachine;
  handlers: Record<string, (input: Json) => Promise<Json>>;
  /** State name → state, every level. */
  states: Map<string, AslState>;
  /** Names of the Distributed Maps, and of every state their items run. */
  distributed: Set<string>;
  itemStates: Set<string>;
}

interface MapRun {
  arn: string;
  executionArn: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  startDate: Date;
  stopDate?: Date;
  counts: { total: number; running: number; succeeded: number; failed: number };
}

export interface Execution {
  arn: string;
  machine: Machine;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  mapRuns: MapRun[];
  done: Promise<void>;
  abort(): void;
}

/** A Step Functions status change, as EventBridge carries it (source aws.states). */
export type StatusListener = (execution: Execution) => void | Promise<void>;

/**
 * Retry intervals and Wait states last this long here instead of seconds or minutes (a freshly
 * booted instance's sshd is waited for up to 5 minutes on AWS). Only time is compressed: every
 * retry, its count and every Wait still happen in the order the definition gives.
 */
export const TIME_COMPRESSION_MS = 50;

export class LocalStepFunctions {
  readonly #machines = new Map<string, Machine>();
  readonly executions = new Map<string, Execution>();
  readonly #lambda: LambdaHost;
  readonly #tallies = new FailureTallies();
  readonly #listeners: StatusListener[] = [];
  #server: Server | undefined;

  constructor(template: LocalTemplate, lambda: LambdaHost, cloud: CloudModel) {
    this.#lambda = lambda;
    const manifests = {
      read: async (ref: { bucket: string; key: string }) =>
        JSON.parse(cloud.s3GetObject({ Bucket: ref.bucket, Key: ref.key }).Body) as string[],
    } as ManifestStore;
    for (const [id, props] of template.ofType("AWS::StepFunctions::StateMachine")) {
      const arn = template.ref(id, id);
      const location = props.DefinitionS3Location as { Key: string } | undefined;
      const text = location
        ? template.fileAsset(location.Key)
        : String(template.resolve(props.DefinitionString, id));
      const substitutions = template.resolve(props.DefinitionSubstitutions ?? {}, id) as Record<
        string,
        string
      >;
      const substituted = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) => {
        const value = substitutions[name];
        if (value === undefined) throw new Error(`${id}: no substitution for ${match}`);
        return value;
      });
      const original = JSON.parse(substituted) as Definition;
      const definition = inlineDistributedMaps(original);
      const distributed = new Set<string>();
      const itemStates = new Set<string>();
      for (const [name, state] of Object.entries(original.States)) {
        if (state.ItemProcessor?.ProcessorConfig?.Mode !== "DISTRIBUTED") continue;
        distributed.add(name);
      }
      const states = new Map<string, AslState>();
      const walk = (all: Record<string, AslState>, inItems: boolean) => {
        for (const [name, state] of Object.entries(all)) {
          states.set(name, state);
          if (inItems) itemStates.add(name);
          const nested = inItems || distributed.has(name);
          if (state.ItemProcessor) walk(state.ItemProcessor.States, nested);
          for (const branch of state.Branches ?? []) walk(branch.States, nested);
        }
      };
      walk(definition.States, false);
      const handlers: Record<string, (input: Json) => Promise<Json>> = {};
      const retryIntervals: Record<string, number[]> = {};
      const waitTimes: Record<string, number> = {};
      for (const [name, state] of states) {
        if (Array.isArray(state.Retry)) {
          retryIntervals[name] = state.Retry.map(() => TIME_COMPRESSION_MS);
        }
        if (state.Type === "Wait") waitTimes[name] = TIME_COMPRESSION_MS;
      }
      for (const [name, state] of states) {
        if (state.Type !== "Task") continue;
        if (name.endsWith(READ_ITEMS_SUFFIX)) {
          handlers[name] = async (input) =>
            (await readItems(manifests, this.#tallies, input as never)) as Json;
        } else if (name === COUNT_FAILURE_STATE) {
          handlers[name] = async (input) => {
            this.#tallies.fail((input as { tally: string }).tally);
            return input;
          };
        } else {
          const spec = lambda.byArn(String(state.Resource));
          handlers[name] = (input) => this.#invoke(spec.id, input);
        }
      }
      const name = arn.slice(arn.lastIndexOf(":") + 1);
      this.#machines.set(arn, {
        arn,
        name,
        retryIntervals,
        waitTimes,
        interpreter: new StateMachine(definition as never, {
          validationOptions: { noValidate: true },
        }),
        handlers,
        states,
        distributed,
        itemStates,
      });
    }
  }

  get machineArns(): string[] {
    return [...this.#machines.keys()];
  }

  onStatusChange(listener: StatusListener): void {
    this.#listeners.push(listener);
  }

  /**
   * A Task's Lambda invocation as Step Functions reports it: the function's errorType is the
   * state's Error and its Cause is the JSON Lambda returns (`{"errorType","errorMessage","trace"}`).
   */
  async #invoke(functionId: string, input: Json): Promise<Json> {
    const result = await this.#lambda.invoke(functionId, input);
    if (result.ok) return result.value as Json;
    const error = new Error(JSON.stringify(result.error));
    error.name = result.error.errorType;
    throw error;
  }

  startExecution(stateMachineArn: string, name: string | undefined, input = "{}") {
    const machine = this.#machines.get(stateMachineArn);
    if (!machine) {
      throw new SfnError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    }
    const executionName = name ?? randomUUID();
    const arn = `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(arn);
    if (existing) {
      // Standard workflows: the same name and input of a running execution is idempotent.
      if (existing.status === "RUNNING" && existing.input === input) {
        return { executionArn: arn, startDate: existing.startDate };
      }
      throw new SfnError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`);
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(input) as Json;
    } catch {
      throw new SfnError("InvalidExecutionInput", "Invalid State Machine Execution Input");
    }
    const startDate = new Date();
    const run = machine.interpreter.run(parsed, {
      overrides: {
        taskResourceLocalHandlers: machine.handlers,
        retryIntervalOverrides: machine.retryIntervals,
        waitTimeOverrides: machine.waitTimes,
      },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: arn,
          Name: executionName,
          Input: parsed,
          StartTime: startDate.toISOString(),
          RoleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/${machine.name}-role`,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
      } as never,
    });
    const history = new HistoryWriter(machine, arn);
    const execution: Execution = {
      arn,
      machine,
      name: executionName,
      input,
      status: "RUNNING",
      startDate,
      events: history.events,
      mapRuns: history.mapRuns,
      done: Promise.resolve(),
      abort: () => run.abort(),
    };
    this.executions.set(arn, execution);
    const collected = (async () => {
      for await (const event of run.eventLogs) history.add(event as LogEvent);
    })();
    execution.done = (async () => {
      let failure: { error?: string; cause?: string } | undefined;
      try {
        const output = await run.result;
        await collected.catch(() => {});
        if (history.aborted) {
          execution.status = "ABORTED";
        } else {
          execution.status = "SUCCEEDED";
          execution.output = JSON.stringify(output);
        }
      } catch (error) {
        await collected.catch(() => {});
        const e = error as { name?: string; message?: string; cause?: unknown };
        failure =
          history.failure ??
          (e.cause instanceof Error
            ? { error: e.cause.name, cause: e.cause.message }
            : { error: e.name, cause: e.message });
        execution.status = history.timedOut ? "TIMED_OUT" : "FAILED";
        execution.error = failure.error;
        execution.cause = failure.cause;
      }
      execution.stopDate ??= new Date();
      history.end(execution);
      for (const listener of this.#listeners) await listener(execution);
    })();
    return { executionArn: arn, startDate };
  }

  #execution(arn: string): Execution {
    const execution = this.executions.get(arn);
    if (!execution)
      throw new SfnError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  describeExecution(arn: string): DescribeExecutionOutput {
    const e = this.#execution(arn);
    return {
      executionArn: e.arn,
      stateMachineArn: e.machine.arn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate && e.status !== "RUNNING" ? { stopDate: e.stopDate } : {}),
      input: e.input,
      inputDetails: { included: true },
      ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  getExecutionHistory(input: {
    executionArn: string;
    maxResults?: number;
    reverseOrder?: boolean;
    nextToken?: string;
    includeExecutionData?: boolean;
  }) {
    const e = this.#execution(input.executionArn);
    const all = input.reverseOrder ? [...e.events].reverse() : e.events;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = Math.min(Math.max(input.maxResults || 100, 1), 1000);
    const page = all.slice(start, start + size);
    const events =
      input.includeExecutionData === false ? page.map(withoutData) : page.map((x) => ({ ...x }));
    return {
      events,
      ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
    };
  }

  stopExecution(input: { executionArn: string; error?: string; cause?: string }) {
    const e = this.#execution(input.executionArn);
    if (e.status === "RUNNING") {
      e.stopDate = new Date();
      if (input.error !== undefined) e.error = input.error;
      if (input.cause !== undefined) e.cause = input.cause;
      e.abort();
    }
    return { stopDate: e.stopDate ?? new Date() };
  }

  listExecutions(input: { stateMachineArn: string; statusFilter?: ExecutionStatus }) {
    if (!this.#machines.has(input.stateMachineArn)) {
      throw new SfnError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${input.stateMachineArn}'`,
      );
    }
    const executions = [...this.executions.values()]
      .filter((e) => e.machine.arn === input.stateMachineArn)
      .filter((e) => !input.statusFilter || e.status === input.statusFilter)
      .reverse()
      .map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.machine.arn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        ...(e.status !== "RUNNING" && e.stopDate ? { stopDate: e.stopDate } : {}),
      }));
    return { executions };
  }

  describeMapRun(input: { mapRunArn: string }): DescribeMapRunOutput {
    for (const execution of this.executions.values()) {
      const run = execution.mapRuns.find((r) => r.arn === input.mapRunArn);
      if (!run) continue;
      const { total, running, succeeded, failed } = run.counts;
      const counts = {
        pending: 0,
        running,
        succeeded,
        failed,
        timedOut: 0,
        aborted: run.status === "ABORTED" ? running : 0,
        total,
        resultsWritten: succeeded + failed,
      };
      return {
        mapRunArn: run.arn,
        executionArn: run.executionArn,
        status: run.status,
        startDate: run.startDate,
        ...(run.stopDate ? { stopDate: run.stopDate } : {}),
        maxConcurrency: 0,
        toleratedFailurePercentage: 0,
        toleratedFailureCount: 0,
        itemCounts: counts,
        executionCounts: counts,
      };
    }
    throw new SfnError("ResourceNotFound", `Map Run Does Not Exist: '${input.mapRunArn}'`);
  }

  /** Serves the API on 127.0.0.1; returns its URL (AWS_ENDPOINT_URL_SFN). */
  async listen(): Promise<string> {
    const server = createServer((request, response) => void this.#serve(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("AWSStepFunctions.") ? target.slice(17) : "";
    const reply = (status: number, body: object) => {
      response.writeHead(status, {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": randomUUID(),
      });
      response.end(JSON.stringify(body, (_k, v) => v));
    };
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      const output = this.#operation(operation, input);
      reply(200, toWire(output) as object);
    } catch (error) {
      const e = error as Error;
      const known = error instanceof SfnError;
      reply(known ? 400 : 500, {
        __type: `com.amazonaws.swf.service.v2.model#${known ? e.name : "InternalServerError"}`,
        message: e.message,
      });
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: each operation checks its own input shape
  #operation(operation: string, input: any): object {
    switch (operation) {
      case "StartExecution":
        return this.startExecution(input.stateMachineArn, input.name, input.input);
      case "DescribeExecution":
        return this.describeExecution(input.executionArn);
      case "GetExecutionHistory":
        return this.getExecutionHistory(input);
      case "StopExecution":
        return this.stopExecution(input);
      case "ListExecutions":
        return this.listExecutions(input);
      case "DescribeMapRun":
        return this.describeMapRun(input);
    }
    throw new SfnError("UnknownOperationException", `${operation || target0()} is not served`);
  }

  /** Waits for every execution to end (after a test). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.executions.values()].map((e) => e.done));
  }

  async close(): Promise<void> {
    for (const e of this.executions.values()) if (e.status === "RUNNING") e.abort();
    await this.settle();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}

function target0(): string {
  return "(no X-Amz-Target)";
}

/** JSON 1.0 wire form: timestamps as epoch seconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy = structuredClone(event) as unknown as Record<string, unknown>;
  for (const details of Object.values(copy)) {
    if (details && typeof details === "object") {
      delete (details as Record<string, unknown>).input;
      delete (details as Record<string, unknown>).output;
    }
  }
  return copy as unknown as HistoryEvent;
}

const json = (value: unknown) => JSON.stringify(value ?? null);
const notTruncated = { truncated: false };

/**
 * The interpreter's event log as Step Functions' history: `<Type>StateEntered/Exited`, Lambda
 * Scheduled/Started/Succeeded/Failed around each Task, Map and Parallel start and end events,
 * and each event's previousEventId pointing at the one before it on the same thread (the
 * execution, or one Map iteration), as AWS links them.
 */
class HistoryWriter {
  readonly events: HistoryEvent[] = [];
  readonly mapRuns: MapRun[] = [];
  aborted = false;
  timedOut = false;
  failure: { error?: string; cause?: string } | undefined;
  readonly #machine: Machine;
  readonly #executionArn: string;
  readonly #last = new Map<string, number>();
  #mapRun: MapRun | undefined;
  /** Items of the running Map Run whose child failed (the adaptation counted them). */
  readonly #failedItems = new Set<number>();

  constructor(machine: Machine, executionArn: string) {
    this.#machine = machine;
    this.#executionArn = executionArn;
  }

  #push(thread: string, at: number, type: string, details: Record<string, unknown> = {}): void {
    const id = this.events.length + 1;
    const previous = this.#last.get(thread) ?? this.#last.get("root") ?? 0;
    this.events.push({
      id,
      previousEventId: previous,
      timestamp: new Date(at),
      type,
      ...details,
    } as HistoryEvent);
    this.#last.set(thread, id);
  }

  add(event: LogEvent): void {
    const at = event.timestamp;
    const stateName = event.state?.name ?? event.parentState?.name ?? "";
    // Inside a Distributed Map: each item is a child execution with its own history. An item
    // the adaptation counted as failed (lib/local/distributed-map.ts) is a failed child on AWS.
    if (this.#machine.itemStates.has(stateName) && this.#mapRun) {
      if (stateName === COUNT_FAILURE_STATE && event.type === "StateEntered") {
        this.#failedItems.add(event.index ?? -1);
      }
      return;
    }
    if (event.type.startsWith("MapIteration") && this.#machine.distributed.has(stateName)) {
      const counts = this.#mapRun?.counts;
      if (!counts) return;
      if (event.type === "MapIterationStarted") {
        counts.total += 1;
        counts.running += 1;
      } else {
        counts.running -= 1;
        const failed =
          event.type === "MapIterationFailed" || this.#failedItems.has(event.index ?? -1);
        if (failed) counts.failed += 1;
        else counts.succeeded += 1;
      }
      return;
    }
    // The local stand-in for a Distributed Map's ItemReader is not a state on AWS.
    if (stateName.endsWith(READ_ITEMS_SUFFIX)) return;
    const thread = event.index === undefined ? "root" : `item-${event.index}`;
    const type = event.state?.type ?? "";
    const definition = this.#machine.states.get(stateName);
    switch (event.type) {
      case "ExecutionStarted":
        this.#push(thread, at, "ExecutionStarted", {
          executionStartedEventDetails: {
            input: json(event.input),
            inputDetails: notTruncated,
            roleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/${this.#machine.name}-role`,
          },
        });
        return;
      case "StateEntered":
        this.#push(thread, at, `${type}StateEntered`, {
          stateEnteredEventDetails: {
            name: stateName,
            input: json(event.state?.input),
            inputDetails: notTruncated,
          },
        });
        if (type === "Task") this.#scheduled(thread, at, definition, event.state?.input);
        if (type === "Parallel") this.#push(thread, at, "ParallelStateStarted");
        if (type === "Map") {
          this.#push(thread, at, "MapStateStarted", { mapStateStartedEventDetails: { length: 0 } });
          if (this.#machine.distributed.has(stateName)) {
            const run: MapRun = {
              arn: `${this.#executionArn.replace(":execution:", ":mapRun:")}/${stateName}:${randomUUID()}`,
              executionArn: this.#executionArn,
              status: "RUNNING",
              startDate: new Date(at),
              counts: { total: 0, running: 0, succeeded: 0, failed: 0 },
            };
            this.mapRuns.push(run);
            this.#mapRun = run;
            this.#failedItems.clear();
            this.#push(thread, at, "MapRunStarted", {
              mapRunStartedEventDetails: { mapRunArn: run.arn },
            });
          }
        }
        return;
      case "StateExited":
        if (type === "Task") {
          this.#push(thread, at, "LambdaFunctionSucceeded", {
            lambdaFunctionSucceededEventDetails: {
              output: json(event.state?.output),
              outputDetails: notTruncated,
            },
          });
        }
        if (type === "Map") this.#endMap(thread, at, stateName, "SUCCEEDED");
        if (type === "Parallel") this.#push(thread, at, "ParallelStateSucceeded");
        this.#push(thread, at, `${type}StateExited`, {
          stateExitedEventDetails: {
            name: stateName,
            output: json(event.state?.output),
            outputDetails: notTruncated,
          },
        });
        return;
      case "StateFailed": {
        const details = { error: event.Error, cause: String(event.Cause ?? "") };
        if (type === "Task") {
          const timedOut = event.Error === "States.Timeout";
          this.#push(thread, at, timedOut ? "LambdaFunctionTimedOut" : "LambdaFunctionFailed", {
            [timedOut ? "lambdaFunctionTimedOutEventDetails" : "lambdaFunctionFailedEventDetails"]:
              details,
          });
        }
        if (type === "Map") this.#endMap(thread, at, stateName, "FAILED");
        if (type === "Parallel") this.#push(thread, at, "ParallelStateFailed");
        return;
      }
      case "StateRetried":
        if (type === "Task") this.#scheduled(thread, at, definition, event.state?.input);
        return;
      case "MapIterationStarted":
      case "MapIterationSucceeded":
      case "MapIterationFailed": {
        const key = `mapIteration${event.type.slice("MapIteration".length)}EventDetails`;
        this.#push(thread, at, event.type, { [key]: { name: stateName, index: event.index } });
        return;
      }
      case "ExecutionFailed":
        this.failure = { error: event.Error, cause: String(event.Cause ?? "") };
        return;
      case "ExecutionAborted":
        this.aborted = true;
        return;
      case "ExecutionTimeout":
        this.timedOut = true;
        return;
    }
  }

  #scheduled(thread: string, at: number, state: AslState | undefined, input: unknown): void {
    this.#push(thread, at, "LambdaFunctionScheduled", {
      lambdaFunctionScheduledEventDetails: {
        resource: state?.Resource,
        input: json(input),
        inputDetails: notTruncated,
        ...(typeof state?.TimeoutSeconds === "number"
          ? { timeoutInSeconds: state.TimeoutSeconds }
          : {}),
      },
    });
    this.#push(thread, at, "LambdaFunctionStarted");
  }

  #endMap(thread: string, at: number, name: string, status: "SUCCEEDED" | "FAILED"): void {
    if (this.#machine.distributed.has(name) && this.#mapRun) {
      this.#mapRun.status = status;
      this.#mapRun.stopDate = new Date(at);
      this.#mapRun = undefined;
      this.#push(thread, at, status === "SUCCEEDED" ? "MapRunSucceeded" : "MapRunFailed");
    }
    this.#push(thread, at, status === "SUCCEEDED" ? "MapStateSucceeded" : "MapStateFailed");
  }

  /** The execution's last event, once its status is known. */
  end(execution: Execution): void {
    const at = (execution.stopDate ?? new Date()).getTime();
    if (this.#mapRun) {
      this.#mapRun.status = execution.status === "ABORTED" ? "ABORTED" : "FAILED";
      this.#mapRun.stopDate = new Date(at);
      if (execution.status === "ABORTED") this.#push("root", at, "MapRunAborted");
      this.#mapRun = undefined;
    }
    switch (execution.status) {
      case "SUCCEEDED":
        this.#push("root", at, "ExecutionSucceeded", {
          executionSucceededEventDetails: { output: execution.output, outputDetails: notTruncated },
        });
        return;
      case "ABORTED":
        this.#push("root", at, "ExecutionAborted", {
          executionAbortedEventDetails: { error: execution.error, cause: execution.cause },
        });
        return;
      case "TIMED_OUT":
        this.#push("root", at, "ExecutionTimedOut", { executionTimedOutEventDetails: {} });
        return;
      default:
        this.#push("root", at, "ExecutionFailed", {
          executionFailedEventDetails: { error: execution.error, cause: execution.cause },
        });
    }
  }
}
