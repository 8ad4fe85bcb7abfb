/**
 * Deployments other than the default: functions in a VPC with a managed-instance tag, and a
 * throw-away dev deployment without a built console. Bundling is left out here (stack.test.ts
 * bundles for real); the shape of the stack does not depend on it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { TASK_ACCESS } from "../../cdk/constructs/workflow-functions.ts";
import { UNSCOPABLE_ACTIONS } from "../../cdk/nag.ts";
import type { TaskName } from "../../lib/workflows/tasks/index.ts";
import { describeViolations, resourcesOf, type Synthesized, synthKeyheal } from "./synth.ts";

describe("in a VPC, managing tagged instances, at a custom domain", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthKeyheal({
      config: {
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        deviceCidrs: ["10.20.0.0/16"],
        awsEndpointsCidrs: ["10.0.0.0/16"],
        managementCidr: "10.0.0.0/16",
        managedTagKey: "keyheal:managed",
        managedTagValue: "true",
        domainName: "keyheal.example.com",
        certificateArn:
          "arn:aws:acm:eu-west-1:123456789012:certificate/0b0f2d1e-1234-4abc-9def-0123456789ab",
      },
      consoleDir: mkdtempSync(path.join(tmpdir(), "keyheal-no-console-")),
    });
  });

  it("passes the AwsSolutions checks", () => {
    expect(s.nag.violations, describeViolations(s.nag)).toEqual([]);
  });

  it("creates a security group with no ingress and egress only to SSH on the device network and HTTPS", () => {
    const groups = Object.values(resourcesOf(s.json, "AWS::EC2::SecurityGroup"));
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties?.SecurityGroupIngress).toBeUndefined();
    expect(groups[0]?.Properties?.SecurityGroupEgress).toEqual([
      expect.objectContaining({
        CidrIp: "10.20.0.0/16",
        FromPort: 22,
        ToPort: 22,
        IpProtocol: "tcp",
      }),
      expect.objectContaining({
        CidrIp: "10.0.0.0/16",
        FromPort: 443,
        ToPort: 443,
        IpProtocol: "tcp",
      }),
    ]);
  });

  it("puts exactly the functions that reach devices into the VPC, and tells them their source", () => {
    for (const [task, access] of Object.entries(TASK_ACCESS)) {
      const fn = s.stack.functions.byTask[task as TaskName].function;
      const props = (s.json.Resources as Record<string, { Properties: Record<string, unknown> }>)[
        s.stack.getLogicalId(fn.node.defaultChild as never)
      ]?.Properties;
      if (access.reachesDevices) {
        expect(props?.VpcConfig, task).toMatchObject({
          SubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        });
      } else {
        expect(props?.VpcConfig, task).toBeUndefined();
      }
      expect(props?.Environment, task).toMatchObject({
        Variables: {
          SSH_SOURCE_CIDR: "10.0.0.0/16",
          SSH_SOURCE_SECURITY_GROUP_ID: expect.anything(),
        },
      });
    }
  });

  it("filters EC2 events by tag in the intake function, which may describe instances", () => {
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("event intake"),
      Environment: {
        Variables: Match.objectLike({
          MANAGED_TAG_KEY: "keyheal:managed",
          MANAGED_TAG_VALUE: "true",
        }),
      },
    });
  });

  it('still gives Resource "*" only to actions without resource-level permissions', () => {
    for (const [id, policy] of Object.entries(resourcesOf(s.json, "AWS::IAM::Policy"))) {
      const statements = (
        policy.Properties?.PolicyDocument as {
          Statement: Array<{ Action: string | string[]; Resource: unknown }>;
        }
      ).Statement;
      for (const statement of statements) {
        if (![statement.Resource].flat().includes("*")) continue;
        for (const action of [statement.Action].flat()) {
          expect(Object.keys(UNSCOPABLE_ACTIONS), `${id}: ${action}`).toContain(action);
        }
      }
    }
  });

  it("serves the API at the root of the custom domain, over TLS 1.2", () => {
    s.template.hasResourceProperties("AWS::ApiGateway::DomainName", {
      DomainName: "keyheal.example.com",
      EndpointConfiguration: { Types: ["REGIONAL"] },
      SecurityPolicy: "TLS_1_2",
    });
    s.template.hasResourceProperties("AWS::ApiGateway::BasePathMapping", {
      BasePath: Match.absent(),
    });
    s.template.hasOutput("ApiUrl", { Value: "https://keyheal.example.com/" });
    s.template.hasOutput("ApiDomainTarget", Match.anyValue());
  });

  it("leaves the console out, with a warning, when it is not built", () => {
    // Only the rotation manifests' bucket: no console files, no access logs.
    s.template.resourceCountIs("AWS::S3::Bucket", 1);
    Annotations.fromStack(s.stack).hasWarning(
      "/Keyheal/Console",
      Match.stringLikeRegexp("The console is not built.*npm run build:web"),
    );
    expect(s.template.findOutputs("ConsoleUrl")).toEqual({});
  });
});

describe("in dev mode", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthKeyheal({
      config: { devMode: true },
      consoleDir: mkdtempSync(path.join(tmpdir(), "keyheal-no-console-")),
    });
  });

  it("lets the stack take its tables, keys and log groups with it", () => {
    s.template.allResources("AWS::DynamoDB::Table", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    s.template.allResources("AWS::KMS::Key", { DeletionPolicy: "Delete" });
    s.template.allResources("AWS::Logs::LogGroup", { DeletionPolicy: "Delete" });
  });

  it("passes the AwsSolutions checks", () => {
    expect(s.nag.violations, describeViolations(s.nag)).toEqual([]);
  });
});
