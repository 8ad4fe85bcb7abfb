import * as path from "node:path";
import { type Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { z } from "zod";
import { type BundleSettings, nodejsBundling } from "../bundling.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { Network } from "./network.ts";

/** A function's environment schema: a zod object of variable names. */
export type EnvironmentSchema = z.ZodObject;

export interface FunctionLogSettings {
  key: kms.IKey;
  retention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export interface KeyhealFunctionProps<S extends EnvironmentSchema> {
  /** The handler module, relative to the project root (`functions/workflow/detect.ts`). */
  entry: string;
  description: string;
  /** The schema the handler validates its environment with (lib/lambda/env.ts). */
  schema: S;
  /**
   * The environment, typed by the schema's input: a missing variable is a compile error, and
   * synth fails on it too (tokens are checked for presence only).
   */
  environment: z.input<S>;
  timeout: Duration;
  memorySize?: number;
  logs: FunctionLogSettings;
  /** Run in the VPC to reach private devices. */
  network?: Network | undefined;
  bundling: BundleSettings;
}

/** An environment that lacks a variable its schema requires, or holds a value Lambda cannot. */
export class FunctionEnvironmentError extends Error {
  constructor(entry: string, problems: readonly string[]) {
    super(`The environment of ${entry} is incomplete: ${problems.join("; ")}.`);
    this.name = "FunctionEnvironmentError";
  }
}

/**
 * Lambda's string map for a schema-typed environment: numbers and booleans as text, absent
 * optional variables left out, variables the schema does not declare dropped.
 *
 * @throws FunctionEnvironmentError when a variable the schema requires is missing.
 */
export function lambdaEnvironment(
  entry: string,
  schema: EnvironmentSchema,
  environment: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const result: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const value = environment[name];
    if (value === undefined) {
      // A field that accepts `undefined` is optional or has a default.
      if (!(field as z.ZodType).safeParse(undefined).success) problems.push(`${name} is missing`);
      continue;
    }
    if (typeof value === "string") result[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") result[name] = String(value);
    else problems.push(`${name} must be a string, number or boolean`);
  }
  if (problems.length > 0) throw new FunctionEnvironmentError(entry, problems);
  return result;
}

/**
 * The one construct every keyheal function is made with: a NodejsFunction bundled by the local
 * esbuild with the shared settings, on Node.js 24 / ARM64, JSON logs into its own retained,
 * KMS-encrypted log group, X-Ray tracing, an environment typed by the handler's schema, and a
 * role that starts with nothing but writing its own logs; callers grant the rest by ARN.
 */
export class KeyhealFunction<S extends EnvironmentSchema> extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The handler module it runs, relative to the project root. */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: KeyhealFunctionProps<S>) {
    super(scope, id);
    this.entry = props.entry;
    const environment = lambdaEnvironment(
      props.entry,
      props.schema,
      props.environment as Record<string, unknown>,
    );
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logs.retention,
      encryptionKey: props.logs.key,
      removalPolicy: props.logs.removalPolicy,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `keyheal ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) this.allowNetworkInterfaces();

    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      description: props.description,
      environment,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      bundling: nodejsBundling(props.bundling),
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: [props.network.securityGroup],
          }
        : {}),
    });
  }

  /**
   * What Lambda needs to place the function in the VPC, as AWS documents it for execution
   * roles: the Describe calls only work on `*`; the others are scoped to this account and region.
   */
  private allowNetworkInterfaces() {
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
        resources: ["*"],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          "ec2:CreateNetworkInterface",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ],
        resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
      }),
    );
  }

  /** Short alias: the function's ARN. */
  get functionArn(): string {
    return this.function.functionArn;
  }
}
