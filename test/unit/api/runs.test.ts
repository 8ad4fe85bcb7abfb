import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { runLookupId } from "../../../lib/api/handlers/runs.ts";
import { createRouter, dispatch } from "../../../lib/api/routes.ts";
import type { ApiContext } from "../../../lib/api/types.ts";
import { WORKFLOW_STATES } from "../../../lib/lambda/workflow-states.ts";
import type { RunRecord } from "../../../lib/store/runs.ts";
import { StepFunctionsStarter } from "../../../lib/workflows/starters.ts";
import { StepFunctionsRunReader } from "../../../lib/workflows/step-functions-runs.ts";

const sfn = mockClient(SFNClient);
const MACHINES = {
  reconnect: "arn:aws:states:eu-west-1:123456789012:stateMachine:keyheal-reconnect",
  resolve: "arn:aws:states:eu-west-1:123456789012:stateMachine:keyheal-resolve",
  rotate: "arn:aws:states:eu-west-1:123456789012:stateMachine:keyheal-rotate",
};
const router = createRouter();
const quiet = { info() {}, warn() {}, error() {} };

/** The API as deployed: Step Functions starts runs and its history answers `GET /runs/{id}`. */
function awsContext(): ApiContext {
  const client = new SFNClient({ region: "eu-west-1" });
  return {
    deps: { logger: quiet },
    starter: new StepFunctionsStarter({ client, stateMachineArns: MACHINES }),
    runs: new StepFunctionsRunReader({
      client,
      workflowOf: (name) => name.replace(/^keyheal-/, ""),
      statesOf: (workflow) => WORKFLOW_STATES[workflow as "rotate"],
      stateMachineArns: MACHINES,
    }),
  } as unknown as ApiContext;
}

/** Step Functions as it answers: the execution exists under the ARN StartExecution returned. */
function deployedExecutions() {
  const known = new Set<string>();
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => {
    const executionArn = `${input.stateMachineArn.replace(":stateMachine:", ":execution:")}:${input.name}`;
    known.add(executionArn);
    return { executionArn, startDate: new Date() };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    if (!known.has(input.executionArn)) {
      throw new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} });
    }
    return {
      executionArn: input.executionArn,
      status: "RUNNING",
      startDate: new Date("2026-12-01T10:00:00Z"),
      input: "{}",
    };
  });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
}

beforeEach(() => sfn.reset());

describe("GET /runs/{id} on the deployed API", () => {
  it("issue 11: reads a rotation by the execution ARN POST /keys/rotate answered, encoded or not", async () => {
    deployedExecutions();
    const ctx = awsContext();
    const started = await dispatch(ctx, router, "POST", "/keys/rotate", { query: {}, body: {} });
    expect(started.status).toBe(202);
    const runId = (started.body as { runId: string }).runId;
    expect(runId).toMatch(
      /^arn:aws:states:eu-west-1:123456789012:execution:keyheal-rotate:rotate-/,
    );
    for (const path of [
      `/runs/${encodeURIComponent(runId)}`,
      `/runs/${runId}`,
      `/runs/${encodeURIComponent(encodeURIComponent(runId))}`,
    ]) {
      const answer = await dispatch(ctx, router, "GET", path, { query: {}, body: undefined });
      expect(answer.status, path).toBe(200);
      expect(answer.body).toMatchObject({ id: runId, workflow: "rotate", status: "RUNNING" });
    }
  });

  it("issue 11: finds a run by its bare name on the machine the name's prefix names", async () => {
    deployedExecutions();
    const ctx = awsContext();
    const started = await dispatch(ctx, router, "POST", "/keys/rotate", { query: {}, body: {} });
    const runId = (started.body as { runId: string }).runId;
    const name = runId.slice(runId.lastIndexOf(":") + 1);
    const answer = await dispatch(ctx, router, "GET", `/runs/${name}`, {
      query: {},
      body: undefined,
    });
    expect(answer).toMatchObject({ status: 200, body: { id: runId } });
    // The rotate machine is asked first, so one lookup finds it.
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });

  it("answers 404 naming the id for an execution that does not exist", async () => {
    deployedExecutions();
    const id = `${MACHINES.rotate.replace(":stateMachine:", ":execution:")}:rotate-gone`;
    const answer = await dispatch(awsContext(), router, "GET", `/runs/${encodeURIComponent(id)}`, {
      query: {},
      body: undefined,
    });
    expect(answer.status).toBe(404);
    expect(JSON.stringify(answer.body)).toContain("rotate-gone");
  });
});

describe("GET /runs/{id} in local mode", () => {
  it("reads a run by its name and by the local execution id a failure record carries", async () => {
    const record = { id: "rotate-01J", workflow: "rotate", status: "SUCCEEDED" } as RunRecord;
    const asked: string[] = [];
    const ctx = {
      runs: {
        get: async (id: string) => {
          asked.push(id);
          return id === record.id ? record : undefined;
        },
      },
    } as unknown as ApiContext;
    for (const id of ["rotate-01J", "local:rotate:rotate-01J", "local%3Arotate%3Arotate-01J"]) {
      const answer = await dispatch(ctx, router, "GET", `/runs/${encodeURIComponent(id)}`, {
        query: {},
        body: undefined,
      });
      expect(answer.status, id).toBe(200);
    }
    expect(asked).toEqual(["rotate-01J", "rotate-01J", "rotate-01J"]);
  });
});

describe("runLookupId", () => {
  it.each([
    [
      "arn:aws:states:us-east-1:123456789012:execution:keyheal-rotate:rotate-1",
      "arn:aws:states:us-east-1:123456789012:execution:keyheal-rotate:rotate-1",
    ],
    [
      "arn:aws:states:us-east-1:123456789012:execution:keyheal-rotate/InstallDevices:0a1b-2c",
      "arn:aws:states:us-east-1:123456789012:execution:keyheal-rotate/InstallDevices:0a1b-2c",
    ],
    [
      "arn%3Aaws-cn%3Astates%3Acn-north-1%3A123456789012%3Aexecution%3Am%3Ar",
      "arn:aws-cn:states:cn-north-1:123456789012:execution:m:r",
    ],
    ["local:reconnect:dev-1-ev", "dev-1-ev"],
    ["rotate-01J", "rotate-01J"],
    ["../etc/passwd", undefined],
    ["arn:aws:states:us-east-1:1:execution:m:r", undefined],
    ["%E0%A4%A", undefined],
  ])("%s → %s", (id, expected) => {
    expect(runLookupId(id)).toBe(expected);
  });
});
