import type { IpPermission } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { InvalidCidrError, InvalidPortError } from "../../../lib/cloud/errors.ts";
import { diagnoseSshAccess, type SecurityGroupIngress } from "../../../lib/cloud/ingress.ts";
import type { InstanceInfo } from "../../../lib/cloud/types.ts";
import { hintFor } from "../../../lib/failures/causes.ts";

const ID = "i-0123456789abcdef0";
const running: InstanceInfo = {
  instanceId: ID,
  state: "running",
  privateIp: "10.0.2.15",
  securityGroupIds: ["sg-0web", "sg-0ops"],
  tags: {},
};
const ssh = (extra: Partial<IpPermission>): IpPermission => ({
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  ...extra,
});
const groups = (...list: [string, IpPermission[]][]): SecurityGroupIngress[] =>
  list.map(([groupId, permissions]) => ({ groupId, permissions }));

describe("diagnoseSshAccess", () => {
  it("an absent instance is not running", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: undefined,
      groups: [],
      source: { cidr: "10.0.0.0/16" },
      port: 22,
    });
    expect(d.cause).toBe("INSTANCE_NOT_RUNNING");
    expect(d.message).toContain("not found");
    expect(d.hint).toBe(hintFor("INSTANCE_NOT_RUNNING"));
  });

  it.each(["stopped", "pending", "stopping", "terminated"])(
    "a %s instance is not running",
    (state) => {
      const d = diagnoseSshAccess({
        instanceId: ID,
        instance: { ...running, state },
        groups: [],
        source: { cidr: "10.0.0.0/16" },
        port: 22,
      });
      expect(d).toEqual({
        cause: "INSTANCE_NOT_RUNNING",
        message: `Instance ${ID} is ${state}, not running.`,
        hint: hintFor("INSTANCE_NOT_RUNNING"),
      });
    },
  );

  it("the second group admitting is enough", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: groups(
        ["sg-0web", []],
        ["sg-0ops", [ssh({ IpRanges: [{ CidrIp: "10.0.0.0/16" }] })]],
      ),
      source: { cidr: "10.0.1.0/24" },
      port: 22,
    });
    expect(d.cause).toBeNull();
    expect(d.message).toContain("sg-0ops");
    expect(d.ruleToAdd).toBeUndefined();
  });

  it("ignores rules of groups the instance does not have", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: groups(["sg-0stranger", [ssh({ IpRanges: [{ CidrIp: "0.0.0.0/0" }] })]]),
      source: { cidr: "10.0.1.0/24" },
      port: 22,
    });
    expect(d.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
  });

  it("names the rule to add on the first group, from the source group (or CIDR)", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: groups(
        ["sg-0web", [ssh({ IpRanges: [{ CidrIp: "192.168.0.0/16" }] })]],
        ["sg-0ops", []],
      ),
      source: { securityGroupId: "sg-0keyheal", cidr: "10.0.1.0/24" },
      port: 22,
    });
    expect(d.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
    expect(d.ruleToAdd).toEqual({
      groupId: "sg-0web",
      protocol: "tcp",
      port: 22,
      source: "sg-0keyheal",
    });
    expect(d.hint).toMatch(
      /^Add an inbound rule to sg-0web: TCP 22 from sg-0keyheal \(or 10\.0\.1\.0\/24\), then retry: aws ec2 authorize-security-group-ingress --group-id sg-0web --protocol tcp --port 22 --source-group sg-0keyheal\.$/,
    );
    expect(d.message).toContain("sg-0web, sg-0ops");
  });

  it("with a bare address as source, the rule uses its /32", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: groups(["sg-0web", []]),
      source: { cidr: "203.0.113.7" },
      port: 2222,
    });
    expect(d.ruleToAdd).toEqual({
      groupId: "sg-0web",
      protocol: "tcp",
      port: 2222,
      source: "203.0.113.7/32",
    });
    expect(d.hint).toContain("TCP 2222 from 203.0.113.7/32");
    expect(d.hint).toContain("--cidr 203.0.113.7/32");
  });

  it("says when prefix-list rules were not evaluated", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: groups(["sg-0web", [ssh({ PrefixListIds: [{ PrefixListId: "pl-0abc" }] })]]),
      source: { securityGroupId: "sg-0keyheal" },
      port: 22,
    });
    expect(d.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
    expect(d.message).toContain("pl-0abc");
  });

  it("an instance without groups is told to get one", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: { ...running, securityGroupIds: [] },
      groups: [],
      source: { securityGroupId: "sg-0keyheal" },
      port: 22,
    });
    expect(d.cause).toBe("SECURITY_GROUP_BLOCKS_SSH");
    expect(d.ruleToAdd).toBeUndefined();
    expect(d.hint).toContain("Attach a security group");
  });

  it("an unconfigured source skips the group check instead of failing", () => {
    const d = diagnoseSshAccess({
      instanceId: ID,
      instance: running,
      groups: [],
      source: {},
      port: 22,
    });
    expect(d.cause).toBeNull();
    expect(d.message).toContain("not checked");
    const stopped = diagnoseSshAccess({
      instanceId: ID,
      instance: { ...running, state: "stopped" },
      groups: [],
      source: { securityGroupId: undefined, cidr: undefined },
      port: 22,
    });
    expect(stopped.cause).toBe("INSTANCE_NOT_RUNNING");
  });

  it("refuses a bad CIDR and a bad port", () => {
    const base = { instanceId: ID, instance: running, groups: [], port: 22 };
    expect(() => diagnoseSshAccess({ ...base, source: { cidr: "10.0.0.0/33" } })).toThrow(
      InvalidCidrError,
    );
    expect(() => diagnoseSshAccess({ ...base, source: { cidr: "10.0.0.0/8" }, port: 0 })).toThrow(
      InvalidPortError,
    );
  });
});
