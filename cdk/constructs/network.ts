import { Fn } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Construct } from "constructs";

export interface NetworkProps {
  vpcId: string;
  subnetIds: readonly string[];
  /** An existing group; otherwise one is created with the egress below. */
  securityGroupId?: string | undefined;
  /** Where devices live: TCP 22 egress goes only there. */
  deviceCidrs: readonly string[];
  /** Where AWS API endpoints are reached: HTTPS egress goes only there. */
  awsEndpointsCidrs: readonly string[];
}

/**
 * The VPC placement of the functions that reach devices (SSH, TCP probes), when the devices are
 * private. Built from ids alone (no lookups), so synth works offline. A created security group
 * has no ingress and allows egress only to TCP 22 on the device networks and HTTPS to AWS.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Whether the stack owns the group (and so its rules). */
  readonly createdSecurityGroup: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", {
      vpcId: props.vpcId,
      // Only the subnets below are ever selected; the zones are not looked up (synth is offline).
      availabilityZones: Fn.getAzs(),
    });
    this.subnets = {
      subnets: props.subnetIds.map((subnetId, index) =>
        ec2.Subnet.fromSubnetId(this, `Subnet${index}`, subnetId),
      ),
    };
    if (props.securityGroupId !== undefined) {
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        "SecurityGroup",
        props.securityGroupId,
        { mutable: false },
      );
      this.createdSecurityGroup = false;
      return;
    }
    const group = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: this.vpc,
      description: "keyheal functions: SSH to devices, HTTPS to AWS APIs, nothing inbound",
      allowAllOutbound: false,
    });
    for (const cidr of props.deviceCidrs) {
      group.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(22), `SSH to devices in ${cidr}`);
    }
    for (const cidr of props.awsEndpointsCidrs) {
      group.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), `HTTPS to AWS APIs via ${cidr}`);
    }
    this.securityGroup = group;
    this.createdSecurityGroup = true;
  }
}
