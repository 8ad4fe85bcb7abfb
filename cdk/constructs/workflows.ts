import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ArnFormat, Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { WorkflowName } from "../../lib/workflows/starters.ts";
import { substitutionsFor, tasksOf } from "../asl.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { WorkflowFunctions } from "./workflow-functions.ts";

/** The three workflows and their ASL files, the same files local mode runs. */
export const WORKFLOW_FILES: Readonly<Record<WorkflowName, string>> = {
  reconnect: "lib/workflows/reconnect.asl.json",
  resolve: "lib/workflows/resolve.asl.json",
  rotate: "lib/workflows/rotate.asl.json",
};

export interface WorkflowsProps {
  functions: WorkflowFunctions;
  logsKey: kms.IKey;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
  /** Rotation manifests the Distributed Map reads and its results go to. */
  manifestBucket: s3.IBucket;
}

export interface Workflow {
  stateMachine: sfn.StateMachine;
  /** The ASL file it was built from, relative to the project root. */
  file: string;
  /** The tasks it invokes, by their placeholders in the file. */
  tasks: readonly string[];
}

/**
 * The Standard state machines, built from the ASL files by substitution: each
 * `${<Task>FunctionArn}` becomes that task's function (synth fails on a placeholder no function
 * stands behind), and each state machine may invoke exactly the functions its file names.
 * Logging: every event, never execution data (inputs and outputs stay out of the logs).
 */
export class Workflows extends Construct {
  readonly byName: Readonly<Record<WorkflowName, Workflow>>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const arns = Object.fromEntries(
      Object.entries(props.functions.byTask).map(([task, fn]) => [task, fn.functionArn]),
    );
    const byName: Partial<Record<WorkflowName, Workflow>> = {};
    for (const [name, file] of Object.entries(WORKFLOW_FILES) as [WorkflowName, string][]) {
      const absolute = path.join(PROJECT_ROOT, file);
      const asl = readFileSync(absolute, "utf8");
      const definitionSubstitutions = substitutionsFor(file, asl, arns);
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: props.logRetention,
        encryptionKey: props.logsKey,
        removalPolicy: props.removalPolicy,
      });
      // A Distributed Map's machine starts its own children, so its role names it by a name
      // known before it exists.
      const distributed = asl.includes('"DISTRIBUTED"');
      const machineName = `${Stack.of(this).stackName}-${name}`;
      const stateMachine = new sfn.StateMachine(this, name, {
        ...(distributed ? { stateMachineName: machineName } : {}),
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromFile(absolute),
        definitionSubstitutions,
        comment: `keyheal ${name} workflow (${file})`,
        tracingEnabled: true,
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      });
      const tasks = tasksOf(asl);
      // Exactly the unqualified function ARNs the definition names; no version or alias wildcard.
      stateMachine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["lambda:InvokeFunction"],
          resources: tasks.map((task) => arns[task] as string),
        }),
      );
      if (distributed) this.#allowDistributedMap(stateMachine, machineName, props);
      byName[name] = { stateMachine, file, tasks };
    }
    this.byName = byName as Record<WorkflowName, Workflow>;

    // An execution that fails, times out or is stopped mid-fan-out never reaches its own
    // ReleaseLease states: this rule hands it to ReleaseRun, which releases what it still holds.
    const rotate = this.byName.rotate.stateMachine;
    new events.Rule(this, "RotationEnded", {
      description: "A rotation that failed, timed out or was stopped: release its leases",
      eventPattern: {
        source: ["aws.states"],
        detailType: ["Step Functions Execution Status Change"],
        detail: {
          stateMachineArn: [rotate.stateMachineArn],
          status: ["FAILED", "TIMED_OUT", "ABORTED"],
        },
      },
      targets: [
        new targets.LambdaFunction(props.functions.byTask.ReleaseRun.function, {
          event: events.RuleTargetInput.fromObject({
            runId: events.EventField.fromPath("$.detail.executionArn"),
            owner: events.EventField.fromPath("$.detail.name"),
            status: events.EventField.fromPath("$.detail.status"),
          }),
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }

  /**
   * A Distributed Map starts its children as executions of the same machine, reads its manifest
   * from S3 and writes its results there (AWS: "IAM policies for Distributed Map states").
   */
  #allowDistributedMap(
    stateMachine: sfn.StateMachine,
    machineName: string,
    props: WorkflowsProps,
  ): void {
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:StartExecution"],
        // By name: the machine's own ARN attribute would make its role depend on itself.
        resources: [
          Stack.of(this).formatArn({
            service: "states",
            resource: "stateMachine",
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: machineName,
          }),
        ],
      }),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:DescribeExecution", "states:StopExecution"],
        resources: [
          Stack.of(this).formatArn({
            service: "states",
            resource: "execution",
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: `${machineName}/*`,
          }),
        ],
      }),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        resources: [props.manifestBucket.arnForObjects("rotations/*")],
      }),
    );
  }
}
