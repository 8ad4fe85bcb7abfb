import type { IpPermission } from "@aws-sdk/client-ec2";
import { hintFor } from "../failures/causes.ts";
import { type Cidr, cidrContains, parseCidr, tryParseCidr } from "./cidr.ts";
import { InvalidPortError } from "./errors.ts";
import type { Diagnosis, IngressRuleToAdd, InstanceInfo, SshSource } from "./types.ts";

/**
 * Whether any of `permissions` (a security group's inbound rules) admits TCP `port` from
 * `source`. Pure.
 *
 * A rule admits when its protocol covers TCP on the port — `-1` (all traffic), or `tcp`/`6` with
 * FromPort..ToPort containing it — and it names the source: a `UserIdGroupPairs` entry with the
 * source's group id, an `IpRanges` block containing the whole source CIDR (10.0.0.0/16 admits
 * 10.0.1.0/24; 10.0.1.128/25 does not), or an `Ipv6Ranges` block containing an IPv6 source
 * (`::/0` admits any IPv6 source, never an IPv4 one: AWS applies IPv6 rules to IPv6 traffic only).
 *
 * @throws InvalidCidrError when `source.cidr` is not a CIDR block or address.
 */
export function ingressAdmits(
  permissions: readonly IpPermission[],
  source: SshSource,
  port: number,
): boolean {
  const sourceCidr = source.cidr === undefined ? undefined : parseCidr(source.cidr);
  return permissions.some(
    (permission) =>
      coversTcpPort(permission, port) &&
      namesSource(permission, source.securityGroupId, sourceCidr),
  );
}

/** Whether the rule's protocol and port range let TCP `port` through. */
function coversTcpPort(permission: IpPermission, port: number): boolean {
  const protocol = permission.IpProtocol?.toLowerCase();
  if (protocol === "-1") return true;
  if (protocol !== "tcp" && protocol !== "6") return false;
  const { FromPort: from, ToPort: to } = permission;
  // EC2 always reports a TCP rule's range; one without is unknown ground, so it admits nothing.
  if (from === undefined || to === undefined) return false;
  if (from === -1 && to === -1) return true;
  return from <= port && port <= to;
}

function namesSource(
  permission: IpPermission,
  sourceGroupId: string | undefined,
  sourceCidr: Cidr | undefined,
): boolean {
  if (
    sourceGroupId !== undefined &&
    permission.UserIdGroupPairs?.some((pair) => pair.GroupId === sourceGroupId)
  ) {
    return true;
  }
  if (sourceCidr !== undefined) {
    const blocks = [
      ...(permission.IpRanges ?? []).map((range) => range.CidrIp),
      ...(permission.Ipv6Ranges ?? []).map((range) => range.CidrIpv6),
    ];
    for (const block of blocks) {
      const rule = block === undefined ? undefined : tryParseCidr(block);
      if (rule !== undefined && cidrContains(rule, sourceCidr)) return true;
    }
  }
  // PrefixListIds never match here: a managed prefix list's entries need another API call
  // (GetManagedPrefixListEntries), so such rules are reported as not evaluated instead.
  return false;
}

/** Whether some rule covering the port references a prefix list (and so went unevaluated). */
function prefixListsOnPort(permissions: readonly IpPermission[], port: number): string[] {
  return permissions
    .filter((permission) => coversTcpPort(permission, port))
    .flatMap((permission) => permission.PrefixListIds ?? [])
    .map((entry) => entry.PrefixListId)
    .filter((id): id is string => id !== undefined);
}

/** One security group's inbound rules. */
export interface SecurityGroupIngress {
  groupId: string;
  permissions: IpPermission[];
}

export interface SshDiagnosisInput {
  instanceId: string;
  /** `undefined` when EC2 does not know the instance. */
  instance: InstanceInfo | undefined;
  /** The inbound rules of the instance's groups (others are ignored). */
  groups: readonly SecurityGroupIngress[];
  source: SshSource;
  port: number;
}

/**
 * The EC2-side reason SSH may fail, from what EC2 reported. Pure: the adapter fetches, this
 * decides.
 */
export function diagnoseSshAccess(input: SshDiagnosisInput): Diagnosis {
  const { instanceId, instance, source, port } = input;
  assertSshSource(source);
  assertPort(port);
  if (instance === undefined) {
    return {
      cause: "INSTANCE_NOT_RUNNING",
      message: `Instance ${instanceId} was not found: it was terminated, the id is wrong, or it is in another region or account.`,
      hint: hintFor("INSTANCE_NOT_RUNNING"),
    };
  }
  if (instance.state !== "running") {
    return {
      cause: "INSTANCE_NOT_RUNNING",
      message: `Instance ${instanceId} is ${instance.state}, not running.`,
      hint: hintFor("INSTANCE_NOT_RUNNING"),
    };
  }
  if (!hasSshSource(source)) {
    // Diagnosis is best effort: an unconfigured source must not turn "unreachable" into a crash.
    return {
      cause: null,
      message: `Instance ${instanceId} is running; its security groups were not checked because keyheal's SSH source (security group or CIDR) is not configured.`,
      hint: "Configure keyheal's SSH source security group or CIDR so the security groups can be checked; meanwhile check that they admit TCP 22 from keyheal.",
    };
  }
  const from = describeSource(source);
  const ownGroups = input.groups.filter((group) =>
    instance.securityGroupIds.includes(group.groupId),
  );
  const admitting = ownGroups.find((group) => ingressAdmits(group.permissions, source, port));
  if (admitting !== undefined) {
    return {
      cause: null,
      message: `${admitting.groupId} on ${instanceId} admits TCP ${port} from ${from}; security groups do not block SSH.`,
      hint: "No security-group change needed: if SSH still fails, check the subnet's network ACLs, the route tables and sshd on the instance.",
    };
  }
  const prefixLists = [
    ...new Set(ownGroups.flatMap((group) => prefixListsOnPort(group.permissions, port))),
  ];
  const unevaluated =
    prefixLists.length === 0
      ? ""
      : ` Rules referencing prefix lists (${prefixLists.join(", ")}) were not evaluated: if one holds keyheal's address, SSH is admitted and the cause lies elsewhere.`;
  const groupIds = instance.securityGroupIds;
  const target = groupIds[0];
  const ruleSource = source.securityGroupId || cidrText(source.cidr);
  if (target === undefined) {
    return {
      cause: "SECURITY_GROUP_BLOCKS_SSH",
      message: `Instance ${instanceId} has no security group, so nothing admits TCP ${port} from ${from}.`,
      hint: `Attach a security group to ${instanceId} with an inbound rule: TCP ${port} from ${ruleSourceText(source)}, then retry.`,
    };
  }
  const ruleToAdd: IngressRuleToAdd = {
    groupId: target,
    protocol: "tcp",
    port,
    source: ruleSource,
  };
  return {
    cause: "SECURITY_GROUP_BLOCKS_SSH",
    message: `No inbound rule on ${groupIds.join(", ")} (the security groups of ${instanceId}) admits TCP ${port} from ${from}.${unevaluated}`,
    hint: `Add an inbound rule to ${target}: TCP ${port} from ${ruleSourceText(source)}, then retry${cliCommand(ruleToAdd, source)}.`,
    ruleToAdd,
  };
}

/** Whether the source names a group or a CIDR, so rules can be checked against it. */
export function hasSshSource(source: SshSource): boolean {
  return Boolean(source.securityGroupId || source.cidr);
}

/** @throws InvalidCidrError when the source's CIDR is malformed. */
export function assertSshSource(source: SshSource): void {
  if (source.cidr) parseCidr(source.cidr);
}

/** A CIDR as EC2 wants it: a bare address gets its /32 or /128. */
function cidrText(cidr: string | undefined): string {
  if (!cidr) return "";
  if (cidr.includes("/")) return cidr;
  return `${cidr}/${parseCidr(cidr).family === 4 ? 32 : 128}`;
}

/** @throws InvalidPortError outside 1..65535. */
export function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidPortError(port);
}

function describeSource(source: SshSource): string {
  return [source.securityGroupId, source.cidr].filter(Boolean).join(" or ");
}

/** `sg-b (or 10.0.0.0/24)` — the group first: it survives address changes. */
function ruleSourceText(source: SshSource): string {
  const cidr = cidrText(source.cidr);
  if (source.securityGroupId && cidr) return `${source.securityGroupId} (or ${cidr})`;
  return source.securityGroupId || cidr;
}

/** The AWS CLI call that adds the rule, where `--cidr`/`--source-group` can express it. */
function cliCommand(rule: IngressRuleToAdd, source: SshSource): string {
  const base = `aws ec2 authorize-security-group-ingress --group-id ${rule.groupId} --protocol tcp --port ${rule.port}`;
  if (source.securityGroupId) return `: ${base} --source-group ${source.securityGroupId}`;
  if (source.cidr && tryParseCidr(source.cidr)?.family === 4) {
    return `: ${base} --cidr ${cidrText(source.cidr)}`;
  }
  return "";
}
