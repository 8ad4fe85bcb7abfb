import type { DeviceRegistration } from "../devices/types.ts";
import type { Cause } from "../failures/causes.ts";

/** What keyheal needs to know about one EC2 instance. */
export interface InstanceInfo {
  instanceId: string;
  /** EC2 instance state name: pending, running, stopping, stopped, shutting-down, terminated. */
  state: string;
  privateIp?: string | undefined;
  publicIp?: string | undefined;
  /** The groups of the primary network interface, the one keyheal's SSH reaches. */
  securityGroupIds: string[];
  vpcId?: string | undefined;
  tags: Record<string, string>;
}

/**
 * Where keyheal's SSH connections come from. Give the security group when keyheal runs in (or
 * is peered with) the instance's VPC and reaches the private address; give the CIDR — its NAT
 * or egress address as /32 — when it reaches the public address, where group references do not
 * apply. With both, a rule admitting either one counts. With neither, only the instance state
 * is checked.
 */
export interface SshSource {
  securityGroupId?: string;
  cidr?: string;
}

/** The exact inbound rule that would admit keyheal's SSH. */
export interface IngressRuleToAdd {
  groupId: string;
  protocol: "tcp";
  port: number;
  /** A security group id or a CIDR. */
  source: string;
}

/** The causes an SSH diagnosis can find on the cloud side. */
export type DiagnosisCause = Extract<Cause, "INSTANCE_NOT_RUNNING" | "SECURITY_GROUP_BLOCKS_SSH">;

/** Why SSH to an instance may fail, as far as EC2 can tell; `cause: null` when EC2 is not why. */
export interface Diagnosis {
  cause: DiagnosisCause | null;
  /** What was found. */
  message: string;
  /** The one-line handling step. */
  hint: string;
  ruleToAdd?: IngressRuleToAdd;
}

export interface DiscoveryTag {
  key: string;
  /** Match this value only; any value of the key when absent. */
  value?: string;
}

/** Why discovery left a matching instance out. */
export type DiscoverySkipReason = "NO_ADDRESS" | "INVALID_ADMIN_USER";

export interface DiscoveryOptions {
  /** Which address becomes the device's host. */
  address: "private" | "public";
  /** Tag whose value is the instance's admin user; `defaultAdminUser` when absent or empty. */
  adminUserTag?: string;
  defaultAdminUser: string;
  /** The region the injected client talks to; recorded on each device. */
  region: string;
  /** Told about each matching instance left out, and why. */
  onSkipped?: (instanceId: string, reason: DiscoverySkipReason) => void;
}

/** The cloud checks keyheal makes (EC2 today). */
export interface CloudInventory {
  /** The instance, or `undefined` when EC2 does not know it. */
  describeInstance(instanceId: string): Promise<InstanceInfo | undefined>;
  /**
   * Checks what on the EC2 side may stop SSH from `source` to the instance: its state, then
   * whether any of its security groups admits TCP `port` from `source`.
   */
  diagnoseSsh(instanceId: string, source: SshSource, port?: number): Promise<Diagnosis>;
  /**
   * The instances carrying `tag` that exist (not shutting down or terminated), as device
   * registrations keyed by instance id.
   */
  discoverManaged(tag: DiscoveryTag, options: DiscoveryOptions): Promise<DeviceRegistration[]>;
}
