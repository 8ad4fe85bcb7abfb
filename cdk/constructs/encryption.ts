import { ArnFormat, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";

export interface EncryptionProps {
  /** Dev mode: the keys go with the stack (after KMS's 7-day waiting period). */
  devMode: boolean;
}

/**
 * keyheal's customer-managed KMS keys, one per kind of data, so that reading one kind never
 * implies decrypting another:
 * - `data`: the tables, the dead-letter queues and the alarm topic;
 * - `secrets`: the Secrets Manager secrets (platform private keys, operator credentials);
 * - `logs`: the CloudWatch log groups of functions, state machines and the API.
 */
export class Encryption extends Construct {
  readonly data: kms.Key;
  readonly secrets: kms.Key;
  readonly logs: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const common = {
      enableKeyRotation: true,
      removalPolicy: props.devMode ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(props.devMode ? 7 : 30),
    };
    this.data = new kms.Key(this, "DataKey", {
      ...common,
      description: "keyheal tables, dead-letter queues and alarm topic",
    });
    this.secrets = new kms.Key(this, "SecretsKey", {
      ...common,
      description: "keyheal secrets: platform private keys and short-lived operator credentials",
    });
    this.logs = new kms.Key(this, "LogsKey", {
      ...common,
      description: "keyheal log groups",
    });

    // EventBridge writes undeliverable events to the encrypted dead-letter queues as its service
    // principal, naming the rule as the source (so only this account's rules qualify).
    this.data.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeDeadLetters",
        principals: [new iam.ServicePrincipal("events.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
    );
    // CloudWatch alarms publish to the encrypted topic; SNS uses the key with CloudWatch's
    // permissions, and the topic's own policy decides who may publish at all.
    this.data.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarms",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    // CloudWatch Logs encrypts each group with this key, only for this account's log groups.
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchLogs",
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ],
        resources: ["*"],
        conditions: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": stack.formatArn({
              service: "logs",
              resource: "log-group",
              resourceName: "*",
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}
