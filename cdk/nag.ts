/**
 * The AwsSolutions findings keyheal accepts, each acknowledged on the narrowest construct that
 * carries it and with the reason it is acceptable. Anything else stops synthesis.
 */
import { type Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import type { KeyhealStack } from "./keyheal-stack.ts";

/**
 * Actions that may name `Resource: "*"`, each with why: AWS offers no resource-level permission
 * for them. test/cdk checks that no policy gives `*` to any other action.
 */
export const UNSCOPABLE_ACTIONS: Readonly<Record<string, string>> = {
  "xray:PutTraceSegments": "X-Ray trace writes support no resource-level permissions",
  "xray:PutTelemetryRecords": "X-Ray trace writes support no resource-level permissions",
  "xray:GetSamplingRules": "X-Ray sampling reads support no resource-level permissions",
  "xray:GetSamplingTargets": "X-Ray sampling reads support no resource-level permissions",
  "ec2:DescribeInstances": "EC2 Describe* actions support no resource-level permissions",
  "ec2:DescribeSecurityGroups": "EC2 Describe* actions support no resource-level permissions",
  "ec2:DescribeNetworkInterfaces":
    "Lambda's VPC attachment; AWS documents it as working only on Resource *",
  "ec2:DescribeSubnets": "EC2 Describe* actions support no resource-level permissions",
  "logs:CreateLogDelivery": "CloudWatch Logs delivery APIs (Step Functions logging) take no ARN",
  "logs:GetLogDelivery": "CloudWatch Logs delivery APIs (Step Functions logging) take no ARN",
  "logs:UpdateLogDelivery": "CloudWatch Logs delivery APIs (Step Functions logging) take no ARN",
  "logs:DeleteLogDelivery": "CloudWatch Logs delivery APIs (Step Functions logging) take no ARN",
  "logs:ListLogDeliveries": "CloudWatch Logs delivery APIs (Step Functions logging) take no ARN",
  "logs:PutResourcePolicy":
    "Step Functions logging sets the account's CloudWatch Logs resource policy",
  "logs:DescribeResourcePolicies":
    "Step Functions logging reads the account's CloudWatch Logs resource policy",
  "logs:DescribeLogGroups": "Step Functions logging lists log groups; no resource scope exists",
  "secretsmanager:ListSecrets":
    "Secrets Manager's ListSecrets supports no resource-level permissions (the sweep of expired operator secrets)",
};

/** One acknowledgement: the finding id as cdk-nag reports it, and why it is accepted. */
export interface Acknowledgement {
  scope: IConstruct;
  id: string;
  reason: string;
}

function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(resource as never);
}

/** Every acknowledgement keyheal makes, for the stack and for the tests that check them. */
export function acknowledgementsFor(stack: KeyhealStack): Acknowledgement[] {
  const acks: Acknowledgement[] = [];
  const add = (scope: IConstruct, id: string, reason: string) => acks.push({ scope, id, reason });

  add(
    stack,
    "AwsSolutions-IAM5[Resource::*]",
    `Only actions without resource-level permissions take Resource "*": ${[
      ...new Set(Object.values(UNSCOPABLE_ACTIONS)),
    ].join("; ")}. test/cdk fails on any other action with "*".`,
  );
  for (const family of ["kms:ReEncrypt*", "kms:GenerateDataKey*"]) {
    add(
      stack,
      `AwsSolutions-IAM5[Action::${family}]`,
      `CDK's DynamoDB and SQS grants add the ${family} family for the table's or queue's own KMS key; the statement names that one key's ARN.`,
    );
  }
  for (const [kind, table] of Object.entries(stack.tables.byKind)) {
    add(
      stack,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, table)}.Arn>/index/*]`,
      `Queries of the ${kind} table's own global secondary indexes (TABLES in lib/store/tables.ts); the wildcard covers only that table's indexes.`,
    );
  }
  const prefix = stack.config.secretPrefix;
  add(
    stack,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
    `Secret names carry a key generation or run name and Secrets Manager's random suffix, known only at run time; access is confined to keyheal's prefix ${prefix} and each function gets only the actions its use of the secret store needs.`,
  );
  for (const [name, { stateMachine }] of Object.entries(stack.workflows.byName)) {
    add(
      stack.opsApi,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(stack, stateMachine)}.Name>:*]`,
      `GET /runs/{id} reads executions of the ${name} state machine; execution names are per run, so only the state machine part of the ARN is fixed.`,
    );
  }

  const manifests = `<${logicalIdOf(stack, stack.manifests.bucket)}.Arn>/rotations/*`;
  add(
    stack,
    `AwsSolutions-IAM5[Resource::${manifests}]`,
    "Rotation manifests and Map results are named by run at run time; ListDevices writes and the rotate state machine reads and writes only under rotations/ of the manifest bucket.",
  );
  const rotate = stack.workflows.byName.rotate.stateMachine;
  add(
    rotate,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.stackName}-rotate/*]`,
    "A Distributed Map describes and stops its own child executions, whose names Step Functions makes at run time; the scope is this state machine's children.",
  );
  add(
    stack.manifests.bucket,
    "AwsSolutions-S1",
    "The bucket holds only device ids for a rotation's Distributed Map, expired after 7 days; only ListDevices and the rotate state machine may touch it, and their calls are in CloudTrail.",
  );

  if (stack.network) {
    add(
      stack,
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]",
      "Lambda creates and deletes the functions' network interfaces with the execution role; their ids exist only then, so AWS documents this account-and-region scope for those actions.",
    );
    add(
      stack.network.vpc,
      "Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones",
      "The VPC's zones are never used: functions go only into the subnets given by id, and synth stays offline.",
    );
    for (const subnet of stack.network.subnets.subnets ?? []) {
      add(
        subnet,
        "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
        "The stack only places functions in the subnet and adds no routes, so its route table is not needed.",
      );
    }
  }

  const api = stack.opsApi.api;
  add(
    api,
    "AwsSolutions-COG4",
    "Every method uses AWS_IAM authorization instead of Cognito: operators and the CLI sign requests (SigV4) with their own AWS credentials, and IAM policies can allow individual routes.",
  );
  add(
    api,
    "AwsSolutions-APIG3",
    "No WAF: every method requires a valid SigV4 signature, which API Gateway checks before any integration runs, and the stage is throttled (50 req/s, burst 100). Attach a regional web ACL in front if policy demands one.",
  );
  add(
    api,
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "API Gateway's account-level logging role must carry this AWS policy; it lets API Gateway write its execution logs and nothing else.",
  );

  const deadLetters = { ...stack.intake.deadLetters, secretSweep: stack.secretSweeper.deadLetters };
  for (const [name, queue] of Object.entries(deadLetters)) {
    add(
      queue,
      "AwsSolutions-SQS3",
      `This queue is itself the dead-letter queue (${name}); a dead-letter queue of a dead-letter queue would only move the problem. Its depth raises an alarm.`,
    );
  }

  const console = stack.consoleFiles;
  if (console.readRole) {
    add(
      console.readRole,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, console.bucket as IConstruct)}.Arn>/*]`,
      "API Gateway's /console routes read any file of the console's build, and only from its bucket.",
    );
    const accessLogs = console.node.tryFindChild("AccessLogs");
    if (accessLogs) {
      add(
        accessLogs,
        "AwsSolutions-S1",
        "This bucket holds the console bucket's server access logs; logging it into itself would loop.",
      );
    }
  }
  // BucketDeployment's handler is a stack-level singleton CDK creates and maintains.
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith("Custom::CDKBucketDeployment")) continue;
    add(
      child,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "CDK's BucketDeployment handler (console upload at deploy time) logs with AWS's basic execution policy.",
    );
    add(
      child,
      "AwsSolutions-L1",
      "CDK's BucketDeployment handler runtime is chosen and updated by aws-cdk-lib; it runs only during deployments.",
    );
    for (const finding of [
      "Action::s3:GetBucket*",
      "Action::s3:GetObject*",
      "Action::s3:List*",
      "Action::s3:Abort*",
      "Action::s3:DeleteObject*",
      "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
    ]) {
      add(
        child,
        `AwsSolutions-IAM5[${finding}]`,
        "CDK's BucketDeployment copies the console build from the CDK assets bucket into the console bucket (with pruning); the grants are CDK's, limited to those two buckets.",
      );
    }
    if (console.bucket) {
      add(
        child,
        `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, console.bucket)}.Arn>/*]`,
        "CDK's BucketDeployment writes and prunes the console files in their bucket.",
      );
    }
  }
  return acks;
}

/** Records every acknowledgement on its construct (cdk-nag reads them during synthesis). */
export function acknowledgeFindings(stack: KeyhealStack): void {
  for (const { scope, id, reason } of acknowledgementsFor(stack)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}
