import * as path from "node:path";
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import type * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { type BundleSettings, bundleSettings } from "./bundling.ts";
import type { KeyhealConfig } from "./config.ts";
import { ConsoleFiles } from "./constructs/console-files.ts";
import { Encryption } from "./constructs/encryption.ts";
import { EventIntake } from "./constructs/events.ts";
import { Manifests } from "./constructs/manifests.ts";
import { Monitoring } from "./constructs/monitoring.ts";
import { Network } from "./constructs/network.ts";
import { API_STAGE, OpsApi } from "./constructs/ops-api.ts";
import { SecretSweeper } from "./constructs/secret-sweeper.ts";
import { Tables } from "./constructs/tables.ts";
import { WorkflowFunctions } from "./constructs/workflow-functions.ts";
import { Workflows } from "./constructs/workflows.ts";
import { acknowledgeFindings } from "./nag.ts";
import { PROJECT_ROOT } from "./paths.ts";

export interface KeyhealStackProps extends StackProps {
  config: KeyhealConfig;
  /** The built console; default web/dist. */
  consoleDir?: string;
  /** Bundling settings; default the deployed ones. */
  bundling?: BundleSettings;
}

/**
 * keyheal on AWS, one stack: the tables, one function per workflow task, the three state
 * machines from the ASL files local mode runs, event intake, the IAM-authorized ops API with the
 * console, and alarms. Stateful resources (tables, keys, log groups, the console bucket) are
 * retained when the stack is deleted unless the deployment is in dev mode.
 */
export class KeyhealStack extends Stack {
  readonly config: KeyhealConfig;
  readonly tables: Tables;
  readonly functions: WorkflowFunctions;
  readonly workflows: Workflows;
  readonly manifests: Manifests;
  readonly intake: EventIntake;
  readonly opsApi: OpsApi;
  readonly consoleFiles: ConsoleFiles;
  readonly monitoring: Monitoring;
  readonly secretSweeper: SecretSweeper;
  readonly network: Network | undefined;

  constructor(scope: Construct, id: string, props: KeyhealStackProps) {
    super(scope, id, {
      description: "keyheal: heal SSH key conflicts across a fleet",
      ...props,
    });
    const config = props.config;
    this.config = config;
    const removalPolicy = config.devMode ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const bundling = props.bundling ?? bundleSettings();
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const encryption = new Encryption(this, "Encryption", { devMode: config.devMode });
    this.tables = new Tables(this, "Tables", { key: encryption.data, devMode: config.devMode });
    this.network =
      config.vpcId !== undefined
        ? new Network(this, "Network", {
            vpcId: config.vpcId,
            subnetIds: config.subnetIds ?? [],
            securityGroupId: config.securityGroupId,
            deviceCidrs: config.deviceCidrs,
            awsEndpointsCidrs: config.awsEndpointsCidrs,
          })
        : undefined;
    const functionLogs = { key: encryption.logs, retention: logRetention, removalPolicy };
    const managedTag =
      config.managedTagKey !== undefined
        ? { key: config.managedTagKey, value: config.managedTagValue }
        : undefined;

    this.manifests = new Manifests(this, "Manifests", { devMode: config.devMode });
    this.functions = new WorkflowFunctions(this, "Tasks", {
      manifestBucket: this.manifests.bucket,
      tables: this.tables,
      secretsKey: encryption.secrets,
      secretPrefix: config.secretPrefix,
      ssh: {
        connectMs: config.sshConnectTimeoutMs,
        handshakeMs: config.sshHandshakeTimeoutMs,
        commandMs: config.sshCommandTimeoutMs,
      },
      sshSource: {
        securityGroupId: this.network?.securityGroup.securityGroupId,
        cidr: config.managementCidr,
      },
      failureTtlDays: config.failureTtlDays,
      logs: functionLogs,
      network: this.network,
      bundling,
    });
    this.workflows = new Workflows(this, "Workflows", {
      functions: this.functions,
      manifestBucket: this.manifests.bucket,
      logsKey: encryption.logs,
      logRetention,
      removalPolicy,
    });
    this.intake = new EventIntake(this, "Intake", {
      tables: this.tables,
      workflows: this.workflows,
      dataKey: encryption.data,
      managedTag,
      logs: functionLogs,
      bundling,
      removalPolicy,
    });
    this.secretSweeper = new SecretSweeper(this, "SecretSweeper", {
      secretPrefix: config.secretPrefix,
      secretsKey: encryption.secrets,
      dataKey: encryption.data,
      logs: functionLogs,
      bundling,
      removalPolicy,
    });
    this.consoleFiles = new ConsoleFiles(this, "Console", {
      distDir: props.consoleDir ?? path.join(PROJECT_ROOT, "web", "dist"),
      devMode: config.devMode,
    });
    this.opsApi = new OpsApi(this, "OpsApi", {
      tables: this.tables,
      workflows: this.workflows,
      secretsKey: encryption.secrets,
      secretPrefix: config.secretPrefix,
      failureTtlDays: config.failureTtlDays,
      managedTag,
      console: this.consoleFiles,
      domain:
        config.domainName !== undefined && config.certificateArn !== undefined
          ? { name: config.domainName, certificateArn: config.certificateArn }
          : undefined,
      logsKey: encryption.logs,
      logRetention,
      removalPolicy,
      logs: functionLogs,
      bundling,
    });
    this.monitoring = new Monitoring(this, "Monitoring", {
      workflows: this.workflows.byName,
      deadLetters: { ...this.intake.deadLetters, SecretSweep: this.secretSweeper.deadLetters },
      api: this.opsApi.api,
      key: encryption.data,
      failedRunsThreshold: config.failedRunsThreshold,
      failureSpikeThreshold: config.failureSpikeThreshold,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, "ApiUrl", {
      description: "The ops API (SigV4): export KEYHEAL_API=<this>",
      value: this.opsApi.url,
    });
    if (this.consoleFiles.bucket) {
      new CfnOutput(this, "ConsoleUrl", {
        description:
          "The console (IAM-signed requests only): open it with `keyheal console`, which signs for the browser",
        value: `${this.opsApi.url}console/`,
      });
    }
    const domain = this.opsApi.api.domainName;
    if (domain && this.opsApi.domain) {
      new CfnOutput(this, "ApiDomainTarget", {
        description: `Point ${this.opsApi.domain.name} here (CNAME or alias record)`,
        value: domain.domainNameAliasDomainName,
      });
    }
    new CfnOutput(this, "EventBusName", {
      description: "Send Device Reconnected events here (source keyheal)",
      value: this.intake.bus.eventBusName,
    });
    for (const [name, { stateMachine }] of Object.entries(this.workflows.byName)) {
      new CfnOutput(this, `${name}StateMachineArn`, { value: stateMachine.stateMachineArn });
    }
    new CfnOutput(this, "AlarmTopicArn", {
      description: "Subscribe to keyheal's alarms",
      value: this.monitoring.topic.topicArn,
    });
    new CfnOutput(this, "DashboardName", { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, "ApiStage", { value: API_STAGE });

    acknowledgeFindings(this);
  }
}
