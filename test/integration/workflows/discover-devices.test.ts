import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { Ec2Inventory } from "../../../lib/cloud/ec2-inventory.ts";
import { DynamoDeviceStore } from "../../../lib/store/index.ts";
import { discoverDevices } from "../../../lib/workflows/discover-devices.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

// EC2 has no emulator here: its answers are mocked; the device store is the embedded engine.
const ec2 = mockClient(EC2Client);
let dynamo: DynamoHarness;
let devices: DynamoDeviceStore;

const instance = (id: string, ip: string, user?: string) => ({
  InstanceId: id,
  PrivateIpAddress: ip,
  State: { Name: "running" as const },
  Tags: [
    { Key: "keyheal:managed", Value: "true" },
    ...(user ? [{ Key: "keyheal:admin-user", Value: user }] : []),
  ],
});

beforeAll(async () => {
  dynamo = await startDynamo();
  devices = new DynamoDeviceStore({ client: dynamo.client, tableName: dynamo.tables.devices });
});
afterAll(async () => dynamo?.stop());
beforeEach(() => ec2.reset());

it("registers every tagged instance as a device, keeping a known device's status and pin", async () => {
  await devices.register({
    id: "i-0123456789abcdef0",
    host: "10.0.0.9",
    port: 22,
    adminUser: "ec2-user",
    hostKeyFingerprint: "SHA256:pinned",
  });
  await devices.update("i-0123456789abcdef0", { status: "KEY_BASED", keyGeneration: 3 });
  ec2
    .on(DescribeInstancesCommand)
    .resolvesOnce({
      Reservations: [{ Instances: [instance("i-0123456789abcdef0", "10.0.0.10", "admin")] }],
      NextToken: "page-2",
    })
    .resolvesOnce({
      Reservations: [{ Instances: [instance("i-0fedcba9876543210", "10.0.0.11")] }],
    });

  const report = await discoverDevices(
    { devices, cloud: new Ec2Inventory({ client: new EC2Client({ region: "eu-west-1" }) }) },
    { key: "keyheal:managed", value: "true" },
    {
      address: "private",
      adminUserTag: "keyheal:admin-user",
      defaultAdminUser: "ec2-user",
      region: "eu-west-1",
    },
  );

  expect(report.registered).toEqual(["i-0123456789abcdef0", "i-0fedcba9876543210"]);
  expect(await devices.get("i-0123456789abcdef0")).toMatchObject({
    host: "10.0.0.10",
    adminUser: "admin",
    status: "KEY_BASED",
    keyGeneration: 3,
    hostKeyFingerprint: "SHA256:pinned",
    instanceId: "i-0123456789abcdef0",
  });
  expect(await devices.get("i-0fedcba9876543210")).toMatchObject({
    status: "UNKNOWN",
    adminUser: "ec2-user",
    port: 22,
  });
});
