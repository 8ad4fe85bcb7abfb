import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
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
      const stateMachine = new sfn.StateMachine(this, name, {
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
      byName[name] = { stateMachine, file, tasks };
    }
    this.byName = byName as Record<WorkflowName, Workflow>;
  }
}
