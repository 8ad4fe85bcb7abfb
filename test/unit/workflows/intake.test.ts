import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ExecutionAlreadyExists,
  InvalidName,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { Ec2Inventory } from "../../../lib/cloud/ec2-inventory.ts";
import { runNameFor } from "../../../lib/events/run-name.ts";
import { InvalidEnvironmentError, readIntakeEnvironment } from "../../../lib/lambda/env.ts";
import { managedByTag } from "../../../lib/workflows/intake.ts";
import {
  executionArnOf,
  InvalidStateMachineArnError,
  StepFunctionsStarter,
} from "../../../lib/workflows/starters.ts";

const sfnMock = mockClient(SFNClient);
const ec2Mock = mockClient(EC2Client);

const PREFIX = "arn:aws:states:eu-west-1:123456789012";
const ARNS = {
  reconnect: `${PREFIX}:stateMachine:keyheal-reconnect`,
  resolve: `${PREFIX}:stateMachine:keyheal-resolve`,
  rotate: `${PREFIX}:stateMachine:keyheal-rotate`,
};
const INSTANCE = "i-0123456789abcdef0";

function starter(): StepFunctionsStarter {
  return new StepFunctionsStarter({
    client: new SFNClient({ region: "eu-west-1" }),
    stateMachineArns: ARNS,
  });
}

beforeEach(() => {
  sfnMock.reset();
  ec2Mock.reset();
});

describe("executionArnOf", () => {
  it("turns a state machine ARN and a run name into the execution ARN", () => {
    expect(executionArnOf(ARNS.reconnect, "dev-1-abc")).toBe(
      `${PREFIX}:execution:keyheal-reconnect:dev-1-abc`,
    );
    expect(executionArnOf("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m", "n")).toBe(
      "arn:aws-cn:states:cn-north-1:123456789012:execution:m:n",
    );
  });

  it("gives undefined for anything that is not a state machine ARN", () => {
    expect(executionArnOf(`${PREFIX}:activity:keyheal`, "n")).toBeUndefined();
    expect(executionArnOf("keyheal-reconnect", "n")).toBeUndefined();
  });
});

describe("StepFunctionsStarter", () => {
  it("starts an execution of the workflow's state machine under the given name", async () => {
    const name = runNameFor("web-1", "evt-1");
    const executionArn = `${PREFIX}:execution:keyheal-reconnect:${name}`;
    sfnMock.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    const input = { deviceId: "web-1", eventId: "evt-1", trigger: "device", attempt: 1 };

    const result = await starter().start("reconnect", name, input);

    expect(result).toEqual({ runId: executionArn, started: true });
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      stateMachineArn: ARNS.reconnect,
      name,
      input: JSON.stringify(input),
    });
  });

  it("the execution name is exactly runNameFor(deviceId, eventId)", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: "x", startDate: new Date() });
    const name = runNameFor("i-0123456789abcdef0", "7bf73129-1428-4cd3-a780-95db273d1602");
    await starter().start("reconnect", name, {});
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe(name);
  });

  it("ExecutionAlreadyExists is a duplicate: started false, the existing execution's ARN", async () => {
    sfnMock.on(StartExecutionCommand).rejects(
      new ExecutionAlreadyExists({
        message: "Execution Already Exists: 'arn…'",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const name = runNameFor("web-1", "evt-1");
    const result = await starter().start("resolve", name, {});
    expect(result).toEqual({
      runId: `${PREFIX}:execution:keyheal-resolve:${name}`,
      started: false,
    });
  });

  it("any other error is the caller's to handle", async () => {
    const error = new InvalidName({ message: "bad name", $metadata: { httpStatusCode: 400 } });
    sfnMock.on(StartExecutionCommand).rejects(error);
    await expect(starter().start("rotate", "n", {})).rejects.toBe(error);
  });

  it("refuses a map holding something other than a state machine ARN", () => {
    expect(
      () =>
        new StepFunctionsStarter({
          client: new SFNClient({ region: "eu-west-1" }),
          stateMachineArns: { ...ARNS, rotate: "keyheal-rotate" },
        }),
    ).toThrow(InvalidStateMachineArnError);
  });
});

describe("managedByTag", () => {
  const inventory = () => new Ec2Inventory({ client: new EC2Client({ region: "eu-west-1" }) });
  const withTags = (tags: Record<string, string>) =>
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE,
              State: { Name: "running", Code: 16 },
              Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
            },
          ],
        },
      ],
    });

  it("an instance carrying the tag with the wanted value is managed", async () => {
    withTags({ "keyheal:managed": "true" });
    expect(
      await managedByTag(inventory(), { key: "keyheal:managed", value: "true" })(INSTANCE),
    ).toBe(true);
  });

  it("another value, or no tag, is not managed; any value counts when none is wanted", async () => {
    withTags({ "keyheal:managed": "false" });
    const tag = { key: "keyheal:managed" };
    expect(await managedByTag(inventory(), { ...tag, value: "true" })(INSTANCE)).toBe(false);
    expect(await managedByTag(inventory(), tag)(INSTANCE)).toBe(true);
    withTags({ Name: "web" });
    expect(await managedByTag(inventory(), tag)(INSTANCE)).toBe(false);
  });

  it("an instance EC2 does not know is not managed", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    expect(await managedByTag(inventory(), { key: "keyheal:managed" })(INSTANCE)).toBe(false);
  });
});

describe("intake environment", () => {
  const env = {
    DEVICES_TABLE: "devices",
    RECONNECT_STATE_MACHINE_ARN: ARNS.reconnect,
    RESOLVE_STATE_MACHINE_ARN: ARNS.resolve,
    ROTATE_STATE_MACHINE_ARN: ARNS.rotate,
  };

  it("needs the table and the three state machine ARNs; the managed tag is optional", () => {
    expect(readIntakeEnvironment(env)).toEqual(env);
    expect(() => readIntakeEnvironment({ ...env, ROTATE_STATE_MACHINE_ARN: undefined })).toThrow(
      InvalidEnvironmentError,
    );
  });

  it("refuses a state machine ARN that is not one, and a tag value without a key", () => {
    expect(() =>
      readIntakeEnvironment({ ...env, RECONNECT_STATE_MACHINE_ARN: "keyheal-reconnect" }),
    ).toThrow(/RECONNECT_STATE_MACHINE_ARN/);
    expect(() => readIntakeEnvironment({ ...env, MANAGED_TAG_VALUE: "true" })).toThrow(
      /MANAGED_TAG_VALUE: needs MANAGED_TAG_KEY/,
    );
  });
});
