import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Instance,
} from "@aws-sdk/client-ec2";
import type { DeviceRegistration } from "../devices/types.ts";
import { INSTANCE_ID_PATTERN } from "../events/schemas.ts";
import { awsErrorCode, Ec2RequestError, InvalidInstanceIdError } from "./errors.ts";
import {
  assertPort,
  assertSshSource,
  diagnoseSshAccess,
  hasSshSource,
  type SecurityGroupIngress,
} from "./ingress.ts";
import type {
  CloudInventory,
  Diagnosis,
  DiscoveryOptions,
  DiscoveryTag,
  InstanceInfo,
  SshSource,
} from "./types.ts";

/** States of an instance that still exists; shutting-down and terminated ones are gone. */
const LIVE_STATES = ["pending", "running", "stopping", "stopped"];

/** What DescribeInstances answers for an id EC2 does not know (or no longer knows). */
const NOT_FOUND = new Set(["InvalidInstanceID.NotFound"]);

/** The POSIX user names keyheal will log in as (as the replace step checks). */
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** SSH's port; discovery registers every instance on it. */
const SSH_PORT = 22;

export interface Ec2InventoryOptions {
  /** An EC2 client for the region whose instances this inventory answers for. */
  client: EC2Client;
}

/**
 * `CloudInventory` over the EC2 API. The client is injected — built by the Lambda handler or
 * the local runtime for one region — so tests hand in a mocked one.
 *
 * IAM: ec2:DescribeInstances, ec2:DescribeSecurityGroups.
 */
export class Ec2Inventory implements CloudInventory {
  readonly #ec2: EC2Client;

  constructor(options: Ec2InventoryOptions) {
    this.#ec2 = options.client;
  }

  /**
   * @throws InvalidInstanceIdError for a malformed id.
   * @throws Ec2RequestError when EC2 fails (not for an unknown id: that is `undefined`).
   */
  async describeInstance(instanceId: string): Promise<InstanceInfo | undefined> {
    if (!INSTANCE_ID_PATTERN.test(instanceId)) throw new InvalidInstanceIdError(instanceId);
    let reservations: DescribeInstancesCommandOutput["Reservations"];
    try {
      const output = await this.#ec2.send(
        new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
      );
      reservations = output.Reservations;
    } catch (error) {
      if (NOT_FOUND.has(awsErrorCode(error) ?? "")) return undefined;
      throw new Ec2RequestError("DescribeInstances", error);
    }
    const instance = (reservations ?? [])
      .flatMap((reservation) => reservation.Instances ?? [])
      .find((candidate) => candidate.InstanceId === instanceId);
    return instance === undefined ? undefined : toInstanceInfo(instance);
  }

  /**
   * @throws InvalidCidrError | InvalidPortError for bad arguments.
   * @throws Ec2RequestError when EC2 fails.
   */
  async diagnoseSsh(instanceId: string, source: SshSource, port = SSH_PORT): Promise<Diagnosis> {
    assertSshSource(source);
    assertPort(port);
    const instance = await this.describeInstance(instanceId);
    const groups =
      instance?.state === "running" && hasSshSource(source)
        ? await this.#ingressOf(instance.securityGroupIds)
        : [];
    return diagnoseSshAccess({ instanceId, instance, groups, source, port });
  }

  /**
   * Pages through DescribeInstances with a tag filter. A device per live instance: id and
   * `instanceId` are the instance id, host its private or public address, admin user from
   * `adminUserTag`. Instances without the chosen address (a stopped instance has no public
   * one) or with an unusable admin user are left out and reported through `onSkipped`.
   *
   * @throws Ec2RequestError when EC2 fails.
   */
  async discoverManaged(
    tag: DiscoveryTag,
    options: DiscoveryOptions,
  ): Promise<DeviceRegistration[]> {
    const tagFilter =
      tag.value === undefined
        ? { Name: "tag-key", Values: [tag.key] }
        : { Name: `tag:${tag.key}`, Values: [tag.value] };
    const input: DescribeInstancesCommandInput = {
      Filters: [tagFilter, { Name: "instance-state-name", Values: LIVE_STATES }],
      MaxResults: 1000,
    };
    const devices = new Map<string, DeviceRegistration>();
    const seenTokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      let output: DescribeInstancesCommandOutput;
      try {
        output = await this.#ec2.send(
          new DescribeInstancesCommand({
            ...input,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        throw new Ec2RequestError("DescribeInstances", error);
      }
      for (const instance of (output.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const device = toRegistration(instance, options);
        if (device !== undefined && !devices.has(device.id)) devices.set(device.id, device);
      }
      nextToken = output.NextToken || undefined;
      // A token seen before would page forever; EC2 never does this, a broken proxy might.
      if (nextToken !== undefined && seenTokens.has(nextToken)) break;
      if (nextToken !== undefined) seenTokens.add(nextToken);
    } while (nextToken !== undefined);
    return [...devices.values()];
  }

  async #ingressOf(groupIds: readonly string[]): Promise<SecurityGroupIngress[]> {
    // An empty GroupIds asks for every group in the region: never send that.
    if (groupIds.length === 0) return [];
    try {
      const output = await this.#ec2.send(
        new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] }),
      );
      return (output.SecurityGroups ?? []).flatMap((group) =>
        group.GroupId === undefined
          ? []
          : [{ groupId: group.GroupId, permissions: group.IpPermissions ?? [] }],
      );
    } catch (error) {
      throw new Ec2RequestError("DescribeSecurityGroups", error);
    }
  }
}

/** EC2's view of an instance, reduced to what keyheal uses. */
export function toInstanceInfo(instance: Instance): InstanceInfo {
  const tags: Record<string, string> = {};
  for (const tag of instance.Tags ?? []) {
    if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  }
  // keyheal reaches the primary interface's address, so only its groups filter that traffic;
  // Instance.SecurityGroups is the fallback when interfaces are not reported.
  const primary = instance.NetworkInterfaces?.find((eni) => eni.Attachment?.DeviceIndex === 0);
  const groups = primary?.Groups ?? instance.SecurityGroups ?? [];
  const securityGroupIds = [
    ...new Set(groups.map((group) => group.GroupId).filter((id): id is string => !!id)),
  ];
  return {
    instanceId: instance.InstanceId ?? "",
    state: instance.State?.Name ?? "unknown",
    privateIp: instance.PrivateIpAddress,
    publicIp: instance.PublicIpAddress,
    securityGroupIds,
    vpcId: instance.VpcId,
    tags,
  };
}

function toRegistration(
  instance: Instance,
  options: DiscoveryOptions,
): DeviceRegistration | undefined {
  const info = toInstanceInfo(instance);
  // The server-side filter already did this; checked again so a stale page cannot add the dead.
  if (!info.instanceId || !LIVE_STATES.includes(info.state)) return undefined;
  const host = options.address === "public" ? info.publicIp : info.privateIp;
  if (!host) {
    options.onSkipped?.(info.instanceId, "NO_ADDRESS");
    return undefined;
  }
  const tagged = options.adminUserTag === undefined ? undefined : info.tags[options.adminUserTag];
  const adminUser = tagged || options.defaultAdminUser;
  // A tag anyone with ec2:CreateTags can set must not become a shell argument unchecked.
  if (!USERNAME.test(adminUser)) {
    options.onSkipped?.(info.instanceId, "INVALID_ADMIN_USER");
    return undefined;
  }
  return {
    id: info.instanceId,
    host,
    port: SSH_PORT,
    adminUser,
    instanceId: info.instanceId,
    region: options.region,
  };
}
