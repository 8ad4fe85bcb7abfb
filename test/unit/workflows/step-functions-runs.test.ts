import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { WORKFLOW_STATES } from "../../../lib/lambda/workflow-states.ts";
import { foldHistory, StepFunctionsRunReader } from "../../../lib/workflows/step-functions-runs.ts";

const sfn = mockClient(SFNClient);
const ARN = "arn:aws:states:eu-west-1:123456789012:execution:keyheal-rotate:rotate-01J0";

/** Builds a history as Step Functions writes it: ids in order, each event linked to the last. */
function history(
  spec: Array<[type: string, details?: Partial<HistoryEvent>, previous?: number]>,
): HistoryEvent[] {
  const t0 = Date.parse("2026-11-30T10:00:00Z");
  return spec.map(([type, details, previous], i) => ({
    id: i + 1,
    previousEventId: previous ?? i,
    timestamp: new Date(t0 + i * 1000),
    type: type as HistoryEvent["type"],
    ...details,
  }));
}

const entered = (name: string, input?: unknown) => ({
  stateEnteredEventDetails: {
    name,
    input: input === undefined ? undefined : JSON.stringify(input),
  },
});
const exited = (name: string) => ({ stateExitedEventDetails: { name } });

/** The states of a workflow with an INLINE Map, whose iterations the parent's history holds. */
const INLINE_STATES = {
  ListDevices: { Type: "Task" },
  InstallEverywhere: { Type: "Map", ItemsPath: "$.targets.devices" },
};

/** An inline fan-out over two devices: one installed, one caught after a retried failure. */
const ROTATION = history([
  ["ExecutionStarted"], // 1
  ["TaskStateEntered", entered("ListDevices")], // 2
  ["TaskScheduled"], // 3
  ["TaskSucceeded"], // 4
  ["TaskStateExited", exited("ListDevices")], // 5
  ["MapStateEntered", entered("InstallEverywhere", { targets: { devices: [{}, {}] } })], // 6
  ["MapStateStarted", { mapStateStartedEventDetails: { length: 2 } }], // 7
  ["MapIterationStarted", {}, 7], // 8
  ["PassStateEntered", entered("Installed"), 8], // 9
  ["PassStateExited", exited("Installed"), 9], // 10
  ["MapIterationSucceeded", {}, 10], // 11
  ["MapIterationStarted", {}, 7], // 12
  ["TaskStateEntered", entered("Install"), 12], // 13
  ["LambdaFunctionScheduled", {}, 13], // 14
  [
    "LambdaFunctionFailed",
    { lambdaFunctionFailedEventDetails: { error: "Keyheal.Transient", cause: "busy" } },
    14,
  ], // 15
  ["LambdaFunctionScheduled", {}, 15], // 16
  [
    "LambdaFunctionFailed",
    { lambdaFunctionFailedEventDetails: { error: "Keyheal.AuthRejected", cause: "no key" } },
    16,
  ], // 17
  ["TaskStateEntered", entered("RecordFailure"), 17], // 18
  ["TaskStateExited", exited("RecordFailure"), 18], // 19
  ["PassStateEntered", entered("NotInstalled"), 19], // 20
  ["PassStateExited", exited("NotInstalled"), 20], // 21
  ["MapIterationSucceeded", {}, 21], // 22
  ["MapStateSucceeded", {}, 7], // 23
  ["MapStateExited", exited("InstallEverywhere"), 23], // 24
  ["ExecutionSucceeded", {}, 24], // 25
]);

beforeEach(() => sfn.reset());

describe("foldHistory", () => {
  it("turns a rotation's history into steps with retries, catches and fan-out progress", () => {
    const { steps, progress } = foldHistory(ROTATION, INLINE_STATES);
    expect(progress).toEqual({ total: 2, done: 2, failed: 1 });
    expect(steps.map((s) => [s.name, s.type, s.status])).toEqual([
      ["ListDevices", "Task", "SUCCEEDED"],
      ["InstallEverywhere", "Map", "SUCCEEDED"],
      ["Installed", "Pass", "SUCCEEDED"],
      ["Install", "Task", "CAUGHT"],
      ["RecordFailure", "Task", "SUCCEEDED"],
      ["NotInstalled", "Pass", "SUCCEEDED"],
    ]);
    expect(steps[3]).toMatchObject({
      retries: 1,
      error: "Keyheal.AuthRejected",
      cause: "no key",
      caughtBy: "RecordFailure",
    });
  });

  it("reports no progress for a run without a Map", () => {
    const { steps, progress } = foldHistory(
      history([["ExecutionStarted"], ["TaskStateEntered", entered("Detect")]]),
      WORKFLOW_STATES.reconnect,
    );
    expect(progress).toBeNull();
    expect(steps).toEqual([expect.objectContaining({ name: "Detect", status: "RUNNING" })]);
  });
});

describe("StepFunctionsRunReader", () => {
  const reader = () =>
    new StepFunctionsRunReader({
      client: new SFNClient({ region: "eu-west-1" }),
      workflowOf: (name) => name.replace(/^keyheal-/, ""),
      statesOf: (workflow) => (workflow === "rotate" ? INLINE_STATES : WORKFLOW_STATES.reconnect),
    });

  it("reads an execution into a run, following history pages", async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: ARN }).resolves({
      executionArn: ARN,
      status: "SUCCEEDED",
      startDate: new Date("2026-11-30T10:00:00Z"),
      stopDate: new Date("2026-11-30T10:00:25Z"),
      input: JSON.stringify({ algorithm: "ed25519" }),
      output: JSON.stringify({ retired: [] }),
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: ROTATION.slice(0, 10), nextToken: "page-2" })
      .resolvesOnce({ events: ROTATION.slice(10) });
    const run = await reader().get(ARN);
    expect(run).toMatchObject({
      id: ARN,
      workflow: "rotate",
      deviceId: null,
      status: "SUCCEEDED",
      startedAt: "2026-11-30T10:00:00.000Z",
      endedAt: "2026-11-30T10:00:25.000Z",
      output: { retired: [] },
      progress: { total: 2, done: 2, failed: 1 },
    });
    const calls = sfn.commandCalls(GetExecutionHistoryCommand);
    expect(calls.map((c) => c.args[0].input.nextToken)).toEqual([undefined, "page-2"]);
  });

  it("maps TIMED_OUT and ABORTED to FAILED and names the device of a device run", async () => {
    for (const status of ["TIMED_OUT", "ABORTED", "FAILED"] as const) {
      sfn.reset();
      sfn.on(DescribeExecutionCommand).resolves({
        status,
        startDate: new Date(),
        input: JSON.stringify({ deviceId: "edge-7" }),
        error: "States.Timeout",
      });
      sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
      expect(await reader().get(ARN)).toMatchObject({ status: "FAILED", deviceId: "edge-7" });
    }
  });

  it("answers undefined for an id that is not an execution, asking nothing", async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: "no such execution", $metadata: {} }));
    expect(await reader().get("rotate-01J0")).toBeUndefined();
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(await reader().get(ARN)).toBeUndefined();
  });
});

describe("StepFunctionsRunReader over a Distributed Map", () => {
  it("issue 11: reads a rotation's fan-out from its Map Runs' item counts, summed over the canary and the fleet", async () => {
    const mapRun = (label: string) =>
      `arn:aws:states:eu-west-1:123456789012:mapRun:keyheal-rotate/InstallDevices:${label}`;
    sfn.on(DescribeExecutionCommand).resolves({
      status: "RUNNING",
      startDate: new Date("2026-12-01T10:00:00Z"),
      input: JSON.stringify({ algorithm: "ed25519" }),
    });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: history([
        ["ExecutionStarted"],
        ["MapStateEntered", entered("InstallDevices", { phase: { name: "canary" } })],
        ["MapRunStarted", { mapRunStartedEventDetails: { mapRunArn: mapRun("canary") } }],
        ["MapRunSucceeded"],
        ["MapStateExited", exited("InstallDevices")],
        ["MapStateEntered", entered("InstallDevices", { phase: { name: "fleet" } })],
        ["MapRunStarted", { mapRunStartedEventDetails: { mapRunArn: mapRun("fleet") } }],
      ]),
    });
    sfn.on(DescribeMapRunCommand, { mapRunArn: mapRun("canary") }).resolves({
      itemCounts: {
        total: 1,
        succeeded: 1,
        failed: 0,
        pending: 0,
        running: 0,
        timedOut: 0,
        aborted: 0,
        resultsWritten: 1,
      },
    });
    sfn.on(DescribeMapRunCommand, { mapRunArn: mapRun("fleet") }).resolves({
      itemCounts: {
        total: 99_999,
        succeeded: 40_000,
        failed: 12,
        pending: 59_887,
        running: 100,
        timedOut: 0,
        aborted: 0,
        resultsWritten: 0,
      },
    });
    const run = await new StepFunctionsRunReader({
      client: new SFNClient({ region: "eu-west-1" }),
      workflowOf: (name) => name.replace(/^keyheal-/, ""),
      statesOf: (workflow) => WORKFLOW_STATES[workflow as "rotate"],
    }).get(ARN);
    expect(run?.progress).toEqual({ total: 100_000, done: 40_013, failed: 12 });
  });
});
