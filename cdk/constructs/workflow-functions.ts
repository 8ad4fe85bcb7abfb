import { existsSync } from "node:fs";
import * as path from "node:path";
import { Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { type TaskEnvironment, taskEnvironmentSchema } from "../../lib/lambda/env.ts";
import { TASKS, type TaskName } from "../../lib/workflows/tasks/index.ts";
import type { BundleSettings } from "../bundling.ts";
import { PROJECT_ROOT } from "../paths.ts";
import {
  functionTimeoutSeconds,
  leaseTtlSeconds,
  type SshTimeoutSettings,
  type TimeoutProfile,
} from "../timeouts.ts";
import { grantEc2Describe, grantSecrets, type SecretUse } from "./access.ts";
import { type FunctionLogSettings, KeyhealFunction } from "./keyheal-function.ts";
import type { Network } from "./network.ts";
import type { Tables } from "./tables.ts";

type TableUse = "read" | "write";

/** What one task touches; its function is granted exactly this. Read from lib/workflows/tasks. */
interface TaskAccess {
  /** What its timeout is made of. */
  timeout: TimeoutProfile;
  /** Opens connections to devices (SSH or a TCP probe): runs in the VPC when there is one. */
  reachesDevices: boolean;
  devices?: TableUse;
  failures?: TableUse;
  keys?: TableUse;
  secrets?: readonly SecretUse[];
  ec2?: readonly string[];
  /** Writes rotation manifests into the manifest bucket. */
  manifests?: boolean;
}

/**
 * Every task of lib/workflows/tasks/index.ts with what it touches. A `Record` over `TaskName`:
 * a task added there does not compile here until its access is decided.
 */
export const TASK_ACCESS: Readonly<Record<TaskName, TaskAccess>> = {
  // The lease and the RESOLVING status are written on the device item.
  AcquireLease: { timeout: "store", reachesDevices: false, devices: "write" },
  ReleaseLease: { timeout: "store", reachesDevices: false, devices: "write" },
  // Tries every generation's private key; pins the host key on first contact; heals a device
  // it finds on an earlier generation on the same connection (reconnect).
  Detect: {
    timeout: "ssh",
    reachesDevices: true,
    devices: "write",
    keys: "read",
    secrets: ["read"],
  },
  // Instance state and the security-group rules for port 22, then a TCP probe.
  Diagnose: {
    timeout: "probe",
    reachesDevices: true,
    devices: "read",
    ec2: ["ec2:DescribeInstances", "ec2:DescribeSecurityGroups"],
  },
  // Takes (a rotation's Install) or extends the lease: a conditional update on the device item.
  Replace: {
    timeout: "ssh",
    reachesDevices: true,
    devices: "write",
    keys: "read",
    secrets: ["read"],
  },
  // Extends the lease before it connects.
  VerifyResolved: {
    timeout: "ssh",
    reachesDevices: true,
    devices: "write",
    keys: "read",
    secrets: ["read"],
  },
  MarkHealthy: { timeout: "store", reachesDevices: false, devices: "write" },
  MarkFailed: { timeout: "store", reachesDevices: false, devices: "write" },
  // Writes the failure record with the current key generation.
  RecordFailure: { timeout: "store", reachesDevices: false, failures: "write", keys: "read" },
  // Reads the operator's secrets (deleting them once expired) and the platform keys; may
  // re-register the device with its new admin user.
  Resolve: {
    timeout: "ssh",
    reachesDevices: true,
    devices: "write",
    keys: "read",
    secrets: ["read", "delete"],
  },
  ForgetSecrets: { timeout: "store", reachesDevices: false, secrets: ["delete"] },
  // Stores generation N+1's private key as a secret (deleting it again if another rotation won).
  CreateGeneration: {
    timeout: "store",
    reachesDevices: false,
    keys: "write",
    secrets: ["write", "delete"],
  },
  ListDevices: { timeout: "store", reachesDevices: false, devices: "read", manifests: true },
  // Retiring a generation deletes its secret.
  RetireGenerations: {
    timeout: "store",
    reachesDevices: false,
    devices: "read",
    keys: "write",
    secrets: ["delete"],
  },
  ReleaseRun: { timeout: "store", reachesDevices: false, devices: "write" },
};

/** `AcquireLease` → `functions/workflow/acquire-lease.ts`. */
export function taskEntry(task: string): string {
  const kebab = task.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return `functions/workflow/${kebab}.ts`;
}

/** A task without a handler module, or without a decision about what it may touch. */
export class TaskWiringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskWiringError";
  }
}

export interface WorkflowFunctionsProps {
  tables: Tables;
  secretsKey: kms.IKey;
  secretPrefix: string;
  ssh: SshTimeoutSettings;
  /** keyheal's SSH source, for the security-group diagnosis. */
  sshSource: { securityGroupId?: string | undefined; cidr?: string | undefined };
  failureTtlDays: number;
  logs: FunctionLogSettings;
  network?: Network | undefined;
  bundling: BundleSettings;
  /** Where the fleet listing writes rotation manifests (docs/scale.md). */
  manifestBucket: s3.IBucket;
}

/**
 * One function per task of the state machines, named after the task, each running its own
 * handler under functions/workflow/ and granted only what that task touches.
 */
export class WorkflowFunctions extends Construct {
  readonly byTask: Readonly<Record<TaskName, KeyhealFunction<typeof taskEnvironmentSchema>>>;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    const environment: TaskEnvironment = {
      ...props.tables.environment,
      SECRET_PREFIX: props.secretPrefix,
      SECRETS_KMS_KEY_ID: props.secretsKey.keyArn,
      SSH_SOURCE_SECURITY_GROUP_ID: props.sshSource.securityGroupId,
      SSH_SOURCE_CIDR: props.sshSource.cidr,
      SSH_CONNECT_TIMEOUT_MS: props.ssh.connectMs,
      SSH_HANDSHAKE_TIMEOUT_MS: props.ssh.handshakeMs,
      SSH_COMMAND_TIMEOUT_MS: props.ssh.commandMs,
      // Each SSH task extends the lease as it starts; it must not lapse between two of them.
      LEASE_TTL_MS: leaseTtlSeconds(props.ssh) * 1000,
      FAILURE_TTL_DAYS: props.failureTtlDays,
    };

    const byTask: Partial<Record<TaskName, KeyhealFunction<typeof taskEnvironmentSchema>>> = {};
    for (const task of Object.keys(TASKS) as TaskName[]) {
      const access = TASK_ACCESS[task] as TaskAccess | undefined;
      if (access === undefined) {
        throw new TaskWiringError(
          `Task ${task} has no entry in TASK_ACCESS (cdk/constructs/workflow-functions.ts): decide what it may touch.`,
        );
      }
      const entry = taskEntry(task);
      if (!existsSync(path.join(PROJECT_ROOT, entry))) {
        throw new TaskWiringError(
          `Task ${task} has no handler: create ${entry} (export const handler = workflowTask("${task}", taskFunction)).`,
        );
      }
      const fn = new KeyhealFunction(this, task, {
        entry,
        description: `keyheal workflow task ${task}`,
        schema: taskEnvironmentSchema,
        environment: access.manifests
          ? { ...environment, MANIFEST_BUCKET: props.manifestBucket.bucketName }
          : environment,
        timeout: Duration.seconds(functionTimeoutSeconds(access.timeout, props.ssh)),
        logs: props.logs,
        network: access.reachesDevices ? props.network : undefined,
        bundling: props.bundling,
      });
      const { byKind } = props.tables;
      for (const kind of ["devices", "failures", "keys"] as const) {
        const use = access[kind];
        if (use === "read") byKind[kind].grantReadData(fn.role);
        if (use === "write") byKind[kind].grantReadWriteData(fn.role);
      }
      grantSecrets(fn.role, this, {
        prefix: props.secretPrefix,
        key: props.secretsKey,
        uses: access.secrets ?? [],
      });
      if (access.ec2) grantEc2Describe(fn.role, access.ec2);
      if (access.manifests) {
        fn.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ["s3:PutObject"],
            resources: [props.manifestBucket.arnForObjects("rotations/*")],
          }),
        );
      }
      byTask[task] = fn;
    }
    this.byTask = byTask as Record<TaskName, KeyhealFunction<typeof taskEnvironmentSchema>>;
  }
}
