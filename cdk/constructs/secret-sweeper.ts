import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { type SweepEnvironment, sweepEnvironmentSchema } from "../../lib/lambda/env.ts";
import type { BundleSettings } from "../bundling.ts";
import { grantSecrets } from "./access.ts";
import { deadLetterQueue } from "./events.ts";
import { type FunctionLogSettings, KeyhealFunction } from "./keyheal-function.ts";

/** Operator secrets live 15 minutes; a forgotten one is gone at most this long after that. */
export const SWEEP_INTERVAL = Duration.minutes(5);

export interface SecretSweeperProps {
  secretPrefix: string;
  secretsKey: kms.IKey;
  dataKey: kms.IKey;
  logs: FunctionLogSettings;
  bundling: BundleSettings;
  removalPolicy: RemovalPolicy;
}

/**
 * Deletes expired operator secrets on a schedule (functions/sweep-secrets.ts). Expiry checked
 * only on read would leave a password in Secrets Manager for as long as nobody reads it.
 */
export class SecretSweeper extends Construct {
  readonly function: KeyhealFunction<typeof sweepEnvironmentSchema>;
  readonly rule: events.Rule;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: SecretSweeperProps) {
    super(scope, id);
    const environment: SweepEnvironment = { SECRET_PREFIX: props.secretPrefix };
    this.function = new KeyhealFunction(this, "Sweep", {
      entry: "functions/sweep-secrets.ts",
      description: "keyheal sweep of expired operator secrets",
      schema: sweepEnvironmentSchema,
      environment,
      timeout: Duration.minutes(2),
      logs: props.logs,
      bundling: props.bundling,
    });
    // ListSecrets takes no resource ARN (cdk/nag.ts UNSCOPABLE_ACTIONS); deleting stays on the prefix.
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["secretsmanager:ListSecrets"], resources: ["*"] }),
    );
    grantSecrets(this.function.role, this, {
      prefix: props.secretPrefix,
      key: props.secretsKey,
      uses: ["delete"],
    });
    this.deadLetters = deadLetterQueue(this, "DeadLetters", props.dataKey, props.removalPolicy);
    this.rule = new events.Rule(this, "Schedule", {
      description: "keyheal: delete expired operator secrets",
      schedule: events.Schedule.rate(SWEEP_INTERVAL),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          retryAttempts: 2,
          deadLetterQueue: this.deadLetters,
        }),
      ],
    });
  }
}
