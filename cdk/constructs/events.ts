import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  DETAIL_TYPES,
  EC2_EVENT_SOURCE,
  KEYHEAL_EVENT_SOURCE,
} from "../../lib/events/detail-types.ts";
import { type IntakeEnvironment, intakeEnvironmentSchema } from "../../lib/lambda/env.ts";
import type { BundleSettings } from "../bundling.ts";
import { type FunctionLogSettings, KeyhealFunction } from "./keyheal-function.ts";
import type { Tables } from "./tables.ts";
import type { Workflows } from "./workflows.ts";

/** An encrypted, TLS-only queue holding what could not be delivered, for two weeks. */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  key: kms.IKey,
  removalPolicy: RemovalPolicy,
): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
}

export interface EventIntakeProps {
  tables: Tables;
  workflows: Workflows;
  dataKey: kms.IKey;
  managedTag?: { key: string; value?: string | undefined } | undefined;
  logs: FunctionLogSettings;
  bundling: BundleSettings;
  removalPolicy: RemovalPolicy;
}

/**
 * From events to reconnect runs: EventBridge rules for EC2 instances entering `running` (default
 * bus) and for keyheal's own `Device Reconnected` events (a custom bus), both targeting the
 * intake function, which finds the device, checks the managed-instance tag and starts the
 * reconnect state machine under a name derived from the event (a redelivered event starts no
 * second run).
 *
 * EC2 state-change events carry no tags, so EventBridge cannot filter them by tag: the rule
 * matches every instance entering `running`, and the intake function's MANAGED_TAG_KEY /
 * MANAGED_TAG_VALUE check (DescribeInstances) ignores unmanaged ones, as does the device lookup.
 *
 * Each rule retries delivery and keeps what it could not deliver in its own dead-letter queue;
 * the intake function's asynchronous invocations keep their failures (malformed events, errors
 * after retries) in a third.
 */
export class EventIntake extends Construct {
  readonly intake: KeyhealFunction<typeof intakeEnvironmentSchema>;
  readonly bus: events.EventBus;
  readonly ec2Rule: events.Rule;
  readonly deviceRule: events.Rule;
  /** Dead-letter queues by what they catch. */
  readonly deadLetters: Readonly<Record<"ec2Rule" | "deviceRule" | "intake", sqs.Queue>>;

  constructor(scope: Construct, id: string, props: EventIntakeProps) {
    super(scope, id);
    const machines = props.workflows.byName;
    const environment: IntakeEnvironment = {
      DEVICES_TABLE: props.tables.environment.DEVICES_TABLE,
      RECONNECT_STATE_MACHINE_ARN: machines.reconnect.stateMachine.stateMachineArn,
      RESOLVE_STATE_MACHINE_ARN: machines.resolve.stateMachine.stateMachineArn,
      ROTATE_STATE_MACHINE_ARN: machines.rotate.stateMachine.stateMachineArn,
      MANAGED_TAG_KEY: props.managedTag?.key,
      MANAGED_TAG_VALUE: props.managedTag?.value,
    };
    const dlq = (name: string) => deadLetterQueue(this, name, props.dataKey, props.removalPolicy);
    this.deadLetters = {
      ec2Rule: dlq("Ec2RuleDeadLetters"),
      deviceRule: dlq("DeviceRuleDeadLetters"),
      intake: dlq("IntakeDeadLetters"),
    };

    this.intake = new KeyhealFunction(this, "Intake", {
      entry: "functions/intake.ts",
      description: "keyheal event intake: EC2 running / Device Reconnected → reconnect run",
      schema: intakeEnvironmentSchema,
      environment,
      timeout: Duration.seconds(30),
      logs: props.logs,
      bundling: props.bundling,
    });
    props.tables.byKind.devices.grantReadData(this.intake.role);
    // Intake only ever starts the reconnect workflow.
    this.intake.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["states:StartExecution"],
        resources: [machines.reconnect.stateMachine.stateMachineArn],
      }),
    );
    if (props.managedTag) {
      this.intake.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ["ec2:DescribeInstances"], resources: ["*"] }),
      );
    }
    this.intake.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetters.intake),
    });

    this.bus = new events.EventBus(this, "Bus", {
      description: `keyheal's own events (source "${KEYHEAL_EVENT_SOURCE}")`,
    });
    const target = (deadLetterQueue: sqs.Queue) =>
      new targets.LambdaFunction(this.intake.function, {
        deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      });

    this.ec2Rule = new events.Rule(this, "Ec2Running", {
      description: "EC2 instances entering running: check their key (intake filters by tag)",
      eventPattern: {
        source: [EC2_EVENT_SOURCE],
        detailType: [DETAIL_TYPES.EC2_STATE_CHANGE],
        detail: { state: ["running"] },
      },
      targets: [target(this.deadLetters.ec2Rule)],
    });
    this.deviceRule = new events.Rule(this, "DeviceReconnected", {
      description: "keyheal Device Reconnected events: check the device's key",
      eventBus: this.bus,
      eventPattern: {
        source: [KEYHEAL_EVENT_SOURCE],
        detailType: [DETAIL_TYPES.DEVICE_RECONNECTED],
      },
      targets: [target(this.deadLetters.deviceRule)],
    });
  }
}
