import type { IpPermission } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { InvalidCidrError } from "../../../lib/cloud/errors.ts";
import { ingressAdmits } from "../../../lib/cloud/ingress.ts";
import type { SshSource } from "../../../lib/cloud/types.ts";

const SG_KEYHEAL = "sg-0keyheal000000001";
const SG_OTHER = "sg-0other00000000002";

const tcp = (from: number, to: number, extra: Partial<IpPermission>): IpPermission => ({
  IpProtocol: "tcp",
  FromPort: from,
  ToPort: to,
  ...extra,
});
const cidr = (...blocks: string[]) => ({ IpRanges: blocks.map((CidrIp) => ({ CidrIp })) });
const cidr6 = (...blocks: string[]) => ({ Ipv6Ranges: blocks.map((CidrIpv6) => ({ CidrIpv6 })) });
const group = (...ids: string[]) => ({
  UserIdGroupPairs: ids.map((GroupId) => ({ GroupId, UserId: "123456789012" })),
});

const fromGroup: SshSource = { securityGroupId: SG_KEYHEAL };
const fromSubnet: SshSource = { cidr: "10.0.1.0/24" };
const fromHost: SshSource = { cidr: "10.0.1.10" };
const fromBoth: SshSource = { securityGroupId: SG_KEYHEAL, cidr: "10.0.1.0/24" };
const fromV6: SshSource = { cidr: "2001:db8:1::/64" };

type Case = [
  name: string,
  permissions: IpPermission[],
  source: SshSource,
  port: number,
  admits: boolean,
];

const cases: Case[] = [
  // Protocols and ports
  ["tcp 22 from the source CIDR", [tcp(22, 22, cidr("10.0.1.0/24"))], fromSubnet, 22, true],
  ["tcp range 20-25 contains 22", [tcp(20, 25, cidr("10.0.1.0/24"))], fromSubnet, 22, true],
  ["tcp range 0-65535", [tcp(0, 65535, cidr("0.0.0.0/0"))], fromSubnet, 22, true],
  ["tcp range starting at the port", [tcp(22, 80, cidr("0.0.0.0/0"))], fromSubnet, 22, true],
  ["tcp range ending at the port", [tcp(1, 22, cidr("0.0.0.0/0"))], fromSubnet, 22, true],
  ["tcp range 23-80 misses 22", [tcp(23, 80, cidr("0.0.0.0/0"))], fromSubnet, 22, false],
  ["tcp 2222 only, checking 22", [tcp(2222, 2222, cidr("0.0.0.0/0"))], fromSubnet, 22, false],
  ["tcp 2222 for a device on 2222", [tcp(2222, 2222, cidr("0.0.0.0/0"))], fromSubnet, 2222, true],
  ["tcp with -1 ports (all)", [tcp(-1, -1, cidr("0.0.0.0/0"))], fromSubnet, 22, true],
  [
    "protocol 6 is tcp",
    [{ ...tcp(22, 22, cidr("0.0.0.0/0")), IpProtocol: "6" }],
    fromSubnet,
    22,
    true,
  ],
  [
    "TCP in capitals",
    [{ ...tcp(22, 22, cidr("0.0.0.0/0")), IpProtocol: "TCP" }],
    fromSubnet,
    22,
    true,
  ],
  [
    "all traffic (-1), no ports",
    [{ IpProtocol: "-1", ...cidr("10.0.0.0/8") }],
    fromSubnet,
    22,
    true,
  ],
  [
    "all traffic (-1) from elsewhere",
    [{ IpProtocol: "-1", ...cidr("192.168.0.0/16") }],
    fromSubnet,
    22,
    false,
  ],
  [
    "udp 22 is not tcp",
    [{ IpProtocol: "udp", FromPort: 22, ToPort: 22, ...cidr("0.0.0.0/0") }],
    fromSubnet,
    22,
    false,
  ],
  [
    "icmp all is not tcp",
    [{ IpProtocol: "icmp", FromPort: -1, ToPort: -1, ...cidr("0.0.0.0/0") }],
    fromSubnet,
    22,
    false,
  ],
  [
    "tcp without a port range",
    [{ IpProtocol: "tcp", ...cidr("0.0.0.0/0") }],
    fromSubnet,
    22,
    false,
  ],
  ["no protocol", [{ FromPort: 22, ToPort: 22, ...cidr("0.0.0.0/0") }], fromSubnet, 22, false],
  ["no rules at all", [], fromBoth, 22, false],

  // IPv4 containment
  ["0.0.0.0/0 admits everyone", [tcp(22, 22, cidr("0.0.0.0/0"))], fromSubnet, 22, true],
  ["10.0.0.0/16 admits 10.0.1.0/24", [tcp(22, 22, cidr("10.0.0.0/16"))], fromSubnet, 22, true],
  [
    "10.0.1.128/25 does not admit all of 10.0.1.0/24",
    [tcp(22, 22, cidr("10.0.1.128/25"))],
    fromSubnet,
    22,
    false,
  ],
  [
    "10.0.1.0/25 does not admit all of 10.0.1.0/24",
    [tcp(22, 22, cidr("10.0.1.0/25"))],
    fromSubnet,
    22,
    false,
  ],
  ["10.0.1.0/25 admits host 10.0.1.10", [tcp(22, 22, cidr("10.0.1.0/25"))], fromHost, 22, true],
  [
    "10.0.1.128/25 does not admit host 10.0.1.10",
    [tcp(22, 22, cidr("10.0.1.128/25"))],
    fromHost,
    22,
    false,
  ],
  ["the exact /32 admits the host", [tcp(22, 22, cidr("10.0.1.10/32"))], fromHost, 22, true],
  ["a neighbour /32 does not", [tcp(22, 22, cidr("10.0.1.11/32"))], fromHost, 22, false],
  ["10.1.0.0/16 is another network", [tcp(22, 22, cidr("10.1.0.0/16"))], fromSubnet, 22, false],
  [
    "one of several ranges matches",
    [tcp(22, 22, cidr("192.168.0.0/16", "10.0.0.0/8"))],
    fromSubnet,
    22,
    true,
  ],
  [
    "a rule with host bits set still counts by its network",
    [tcp(22, 22, cidr("10.0.1.77/24"))],
    fromSubnet,
    22,
    true,
  ],
  [
    "a malformed rule CIDR is skipped",
    [tcp(22, 22, cidr("not-a-cidr", "10.0.0.0/8"))],
    fromSubnet,
    22,
    true,
  ],
  ["only a malformed rule CIDR", [tcp(22, 22, cidr("10.0.0.0/99"))], fromSubnet, 22, false],
  [
    "a range on the wrong port does not help",
    [tcp(80, 80, cidr("0.0.0.0/0")), tcp(22, 22, cidr("172.16.0.0/12"))],
    fromSubnet,
    22,
    false,
  ],
  [
    "port and source must meet in one rule",
    [tcp(80, 80, cidr("10.0.1.0/24")), tcp(22, 22, cidr("172.16.0.0/12"))],
    fromSubnet,
    22,
    false,
  ],

  // IPv6
  ["::/0 admits an IPv6 source", [tcp(22, 22, cidr6("::/0"))], fromV6, 22, true],
  ["::/0 does not admit an IPv4 source", [tcp(22, 22, cidr6("::/0"))], fromSubnet, 22, false],
  ["0.0.0.0/0 does not admit an IPv6 source", [tcp(22, 22, cidr("0.0.0.0/0"))], fromV6, 22, false],
  [
    "2001:db8::/32 contains 2001:db8:1::/64",
    [tcp(22, 22, cidr6("2001:db8::/32"))],
    fromV6,
    22,
    true,
  ],
  ["2001:db8:2::/48 does not", [tcp(22, 22, cidr6("2001:db8:2::/48"))], fromV6, 22, false],

  // Security group references
  ["a pair naming the source group", [tcp(22, 22, group(SG_KEYHEAL))], fromGroup, 22, true],
  ["a pair naming another group", [tcp(22, 22, group(SG_OTHER))], fromGroup, 22, false],
  ["one of several pairs", [tcp(22, 22, group(SG_OTHER, SG_KEYHEAL))], fromGroup, 22, true],
  [
    "all traffic from the source group",
    [{ IpProtocol: "-1", ...group(SG_KEYHEAL) }],
    fromGroup,
    22,
    true,
  ],
  [
    "a group pair does not match a CIDR-only source",
    [tcp(22, 22, group(SG_KEYHEAL))],
    fromSubnet,
    22,
    false,
  ],
  [
    "a CIDR rule does not match a group-only source",
    [tcp(22, 22, cidr("0.0.0.0/0"))],
    fromGroup,
    22,
    false,
  ],
  ["both given: the group admits", [tcp(22, 22, group(SG_KEYHEAL))], fromBoth, 22, true],
  ["both given: the CIDR admits", [tcp(22, 22, cidr("10.0.0.0/16"))], fromBoth, 22, true],
  [
    "both given: neither admits",
    [tcp(22, 22, { ...group(SG_OTHER), ...cidr("10.9.0.0/16") })],
    fromBoth,
    22,
    false,
  ],

  // Prefix lists are not resolved, so never match
  [
    "a prefix list is not evaluated",
    [tcp(22, 22, { PrefixListIds: [{ PrefixListId: "pl-0123" }] })],
    fromBoth,
    22,
    false,
  ],
];

describe("ingressAdmits", () => {
  it.each(cases)("%s", (_name, permissions, source, port, admits) => {
    expect(ingressAdmits(permissions, source, port)).toBe(admits);
  });

  it("refuses a malformed source CIDR", () => {
    expect(() => ingressAdmits([], { cidr: "10.0.0.0/40" }, 22)).toThrow(InvalidCidrError);
  });
});
