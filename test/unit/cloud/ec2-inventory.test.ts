import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { Ec2Inventory } from "../../../lib/cloud/ec2-inventory.ts";
import {
  Ec2RequestError,
  InvalidCidrError,
  InvalidInstanceIdError,
} from "../../../lib/cloud/errors.ts";
import type { DiscoverySkipReason } from "../../../lib/cloud/types.ts";

const ec2Mock = mockClient(EC2Client);
const ID = "i-0123456789abcdef0";
const SOURCE = { securityGroupId: "sg-0keyheal" };

function inventory(): Ec2Inventory {
  return new Ec2Inventory({ client: new EC2Client({ region: "eu-west-1" }) });
}

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: ID,
    State: { Name: "running", Code: 16 },
    PrivateIpAddress: "10.0.2.15",
    PublicIpAddress: "203.0.113.10",
    VpcId: "vpc-0abc",
    SecurityGroups: [{ GroupId: "sg-0web", GroupName: "web" }],
    Tags: [{ Key: "Name", Value: "web-1" }],
    ...overrides,
  };
}

function awsError(name: string, status: number): EC2ServiceException {
  return new EC2ServiceException({
    name,
    message: `${name} happened`,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: "req-1" },
  });
}

beforeEach(() => {
  ec2Mock.reset();
});

describe("Ec2Inventory.describeInstance", () => {
  it("maps the instance", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    expect(await inventory().describeInstance(ID)).toEqual({
      instanceId: ID,
      state: "running",
      privateIp: "10.0.2.15",
      publicIp: "203.0.113.10",
      securityGroupIds: ["sg-0web"],
      vpcId: "vpc-0abc",
      tags: { Name: "web-1" },
    });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: [ID],
    });
  });

  it("takes the groups of the primary interface, the one SSH reaches", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance({
              SecurityGroups: [{ GroupId: "sg-0web" }, { GroupId: "sg-0storage" }],
              NetworkInterfaces: [
                { Attachment: { DeviceIndex: 1 }, Groups: [{ GroupId: "sg-0storage" }] },
                { Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: "sg-0web" }] },
              ],
            }),
          ],
        },
      ],
    });
    expect((await inventory().describeInstance(ID))?.securityGroupIds).toEqual(["sg-0web"]);
  });

  it("an unknown instance is undefined", async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError("InvalidInstanceID.NotFound", 400));
    expect(await inventory().describeInstance(ID)).toBeUndefined();
  });

  it("an empty answer is undefined", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    expect(await inventory().describeInstance(ID)).toBeUndefined();
  });

  it("refuses a malformed id without calling EC2", async () => {
    await expect(inventory().describeInstance("web-1")).rejects.toBeInstanceOf(
      InvalidInstanceIdError,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("wraps EC2 failures, telling transient from permanent", async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .rejectsOnce(awsError("RequestLimitExceeded", 503))
      .rejectsOnce(awsError("UnauthorizedOperation", 403));
    const throttled = await inventory()
      .describeInstance(ID)
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(Ec2RequestError);
    expect(throttled).toMatchObject({
      operation: "DescribeInstances",
      awsCode: "RequestLimitExceeded",
      transient: true,
      requestId: "req-1",
    });

    const denied = await inventory()
      .describeInstance(ID)
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ awsCode: "UnauthorizedOperation", transient: false });
    expect((denied as Error).message).toContain("ec2:DescribeInstances");
  });
});

describe("Ec2Inventory.diagnoseSsh", () => {
  it("a running instance with an admitting rule: cause null", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: "sg-0web",
          IpPermissions: [
            {
              IpProtocol: "tcp",
              FromPort: 22,
              ToPort: 22,
              UserIdGroupPairs: [{ GroupId: "sg-0keyheal" }],
            },
          ],
        },
      ],
    });
    const diagnosis = await inventory().diagnoseSsh(ID, SOURCE);
    expect(diagnosis.cause).toBeNull();
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({
      GroupIds: ["sg-0web"],
    });
  });

  it("a stopped instance: INSTANCE_NOT_RUNNING, without looking at groups", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance({ State: { Name: "stopped", Code: 80 } })] }],
    });
    const diagnosis = await inventory().diagnoseSsh(ID, SOURCE);
    expect(diagnosis.cause).toBe("INSTANCE_NOT_RUNNING");
    expect(diagnosis.message).toContain("stopped");
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });

  it("a vanished instance: INSTANCE_NOT_RUNNING", async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError("InvalidInstanceID.NotFound", 400));
    expect((await inventory().diagnoseSsh(ID, SOURCE)).cause).toBe("INSTANCE_NOT_RUNNING");
  });

  it("no admitting rule: SECURITY_GROUP_BLOCKS_SSH with the rule named", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: "sg-0web",
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
          ],
        },
      ],
    });
    const diagnosis = await inventory().diagnoseSsh(ID, SOURCE);
    expect(diagnosis.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
    expect(diagnosis.ruleToAdd).toEqual({
      groupId: "sg-0web",
      protocol: "tcp",
      port: 22,
      source: "sg-0keyheal",
    });
    expect(diagnosis.hint).toContain("Add an inbound rule to sg-0web: TCP 22 from sg-0keyheal");
  });

  it("a running instance without groups makes no DescribeSecurityGroups call for all groups", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance({ SecurityGroups: [] })] }],
    });
    const diagnosis = await inventory().diagnoseSsh(ID, SOURCE);
    expect(diagnosis.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });

  it("wraps a DescribeSecurityGroups failure", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(awsError("InternalError", 500));
    await expect(inventory().diagnoseSsh(ID, SOURCE)).rejects.toMatchObject({
      name: "Ec2RequestError",
      operation: "DescribeSecurityGroups",
      transient: true,
    });
  });

  it("refuses a malformed source CIDR before calling EC2", async () => {
    await expect(inventory().diagnoseSsh(ID, { cidr: "10.0.0.0/64" })).rejects.toBeInstanceOf(
      InvalidCidrError,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("without a configured source, checks the state and skips the groups", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    const diagnosis = await inventory().diagnoseSsh(ID, {});
    expect(diagnosis.cause).toBeNull();
    expect(diagnosis.message).toContain("not configured");
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(0);
  });
});

describe("Ec2Inventory.discoverManaged", () => {
  const options = {
    address: "private" as const,
    adminUserTag: "keyheal:admin-user",
    defaultAdminUser: "ec2-user",
    region: "eu-west-1",
  };

  it("pages through DescribeInstances and maps tags to the admin user", async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              instance({
                InstanceId: "i-00000000000000001",
                PrivateIpAddress: "10.0.0.1",
                Tags: [{ Key: "keyheal:admin-user", Value: "ubuntu" }],
              }),
              instance({
                InstanceId: "i-00000000000000002",
                PrivateIpAddress: "10.0.0.2",
                State: { Name: "stopped" },
                Tags: [],
              }),
            ],
          },
        ],
        NextToken: "page-2",
      })
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              instance({
                InstanceId: "i-00000000000000003",
                PrivateIpAddress: "10.0.0.3",
                Tags: [{ Key: "keyheal:admin-user", Value: "" }],
              }),
              // The server filter excludes these; a stale answer must not bring them back.
              instance({ InstanceId: "i-00000000000000004", State: { Name: "terminated" } }),
              instance({ InstanceId: "i-00000000000000005", State: { Name: "shutting-down" } }),
            ],
          },
        ],
      });

    const devices = await inventory().discoverManaged(
      { key: "keyheal", value: "managed" },
      options,
    );

    expect(devices).toEqual([
      {
        id: "i-00000000000000001",
        host: "10.0.0.1",
        port: 22,
        adminUser: "ubuntu",
        instanceId: "i-00000000000000001",
        region: "eu-west-1",
      },
      {
        id: "i-00000000000000002",
        host: "10.0.0.2",
        port: 22,
        adminUser: "ec2-user",
        instanceId: "i-00000000000000002",
        region: "eu-west-1",
      },
      {
        id: "i-00000000000000003",
        host: "10.0.0.3",
        port: 22,
        adminUser: "ec2-user",
        instanceId: "i-00000000000000003",
        region: "eu-west-1",
      },
    ]);
    const calls = ec2Mock.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      Filters: [
        { Name: "tag:keyheal", Values: ["managed"] },
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
      ],
      MaxResults: 1000,
    });
    expect(calls[1]?.NextToken).toBe("page-2");
    expect(calls[1]?.Filters).toEqual(calls[0]?.Filters);
  });

  it("filters by tag key alone when no value is given", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    expect(await inventory().discoverManaged({ key: "keyheal" }, options)).toEqual([]);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters?.[0]).toEqual({
      Name: "tag-key",
      Values: ["keyheal"],
    });
  });

  it("uses the public address when asked, and skips instances without one", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance({ InstanceId: "i-00000000000000001", PublicIpAddress: "203.0.113.1" }),
            instance({
              InstanceId: "i-00000000000000002",
              State: { Name: "stopped" },
              PublicIpAddress: undefined,
            }),
          ],
        },
      ],
    });
    const skipped: [string, DiscoverySkipReason][] = [];
    const devices = await inventory().discoverManaged(
      { key: "keyheal" },
      { ...options, address: "public", onSkipped: (id, reason) => skipped.push([id, reason]) },
    );
    expect(devices.map((d) => [d.id, d.host])).toEqual([["i-00000000000000001", "203.0.113.1"]]);
    expect(skipped).toEqual([["i-00000000000000002", "NO_ADDRESS"]]);
  });

  it("skips an instance whose admin-user tag is not a user name", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [instance({ Tags: [{ Key: "keyheal:admin-user", Value: "root; rm -rf /" }] })],
        },
      ],
    });
    const skipped: string[] = [];
    const devices = await inventory().discoverManaged(
      { key: "keyheal" },
      { ...options, onSkipped: (_id, reason) => skipped.push(reason) },
    );
    expect(devices).toEqual([]);
    expect(skipped).toEqual(["INVALID_ADMIN_USER"]);
  });

  it("stops when EC2 repeats a page token instead of looping", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance()] }],
      NextToken: "same",
    });
    const devices = await inventory().discoverManaged({ key: "keyheal" }, options);
    expect(devices.map((d) => d.id)).toEqual([ID]);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(2);
  });

  it("wraps a failing page", async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [], NextToken: "p2" })
      .rejectsOnce(awsError("UnauthorizedOperation", 403));
    await expect(inventory().discoverManaged({ key: "keyheal" }, options)).rejects.toBeInstanceOf(
      Ec2RequestError,
    );
  });
});
