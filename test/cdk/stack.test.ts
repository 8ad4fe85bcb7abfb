/**
 * The deployed shape of keyheal, from one real synthesis (every function bundled by esbuild) of
 * the default configuration with a built console.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { placeholdersOf } from "../../cdk/asl.ts";
import { DEPLOYED_SDK } from "../../cdk/bundling.ts";
import { METRICS } from "../../cdk/constructs/monitoring.ts";
import { API_STAGE, BODY_REQUIRED } from "../../cdk/constructs/ops-api.ts";
import { TASK_ACCESS } from "../../cdk/constructs/workflow-functions.ts";
import { WORKFLOW_FILES } from "../../cdk/constructs/workflows.ts";
import { acknowledgementsFor, UNSCOPABLE_ACTIONS } from "../../cdk/nag.ts";
import { PROJECT_ROOT } from "../../cdk/paths.ts";
import { ROUTES } from "../../lib/api/routes.ts";
import { DETAIL_TYPES, KEYHEAL_EVENT_SOURCE } from "../../lib/events/detail-types.ts";
import { CAUSES } from "../../lib/failures/causes.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { metrics } from "../../lib/lambda/powertools.ts";
import { TABLES, type TableDesign } from "../../lib/store/tables.ts";
import { TASKS, type TaskName } from "../../lib/workflows/tasks/index.ts";
import {
  describeViolations,
  getAttId,
  refId,
  resourcesOf,
  type Synthesized,
  synthKeyheal,
} from "./synth.ts";

let s: Synthesized;
let consoleDir: string;

beforeAll(() => {
  consoleDir = path.join(tmpdir(), `keyheal-console-${process.pid}`);
  mkdirSync(path.join(consoleDir, "assets"), { recursive: true });
  writeFileSync(path.join(consoleDir, "index.html"), "<!doctype html><title>keyheal</title>");
  writeFileSync(path.join(consoleDir, "assets", "app.js"), "console.log('keyheal');");
  s = synthKeyheal({ bundle: true, consoleDir });
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId(construct.node.defaultChild as never);

/** Logical id of each task's function. */
const taskFunctionIds = () =>
  Object.fromEntries(
    Object.entries(s.stack.functions.byTask).map(([task, fn]) => [task, logicalId(fn.function)]),
  ) as Record<TaskName, string>;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const policyStatements = (): Array<{ policy: string; statement: Statement }> =>
  Object.entries(resourcesOf(s.json, "AWS::IAM::Policy")).flatMap(([policy, resource]) =>
    ((resource.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []).map(
      (statement) => ({ policy, statement }),
    ),
  );
const actionsOf = (statement: Statement) => [statement.Action].flat();

describe("cdk-nag AwsSolutions", () => {
  it("reports no unacknowledged finding", () => {
    expect(s.nag.violations, describeViolations(s.nag)).toEqual([]);
    expect(s.nag.success).toBe(true);
  });

  it("gives every acknowledgement a reason that says why", () => {
    const acks = acknowledgementsFor(s.stack);
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) {
      expect(ack.reason.length, ack.id).toBeGreaterThanOrEqual(60);
      expect(ack.reason, ack.id).not.toMatch(/^(todo|n\/a|ok|fine|reason)\b/i);
    }
  });
});

describe("tables", () => {
  it("builds one table per entry of TABLES, with its keys, indexes and TTL", () => {
    const tables = Object.values(resourcesOf(s.json, "AWS::DynamoDB::Table"));
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const [kind, design] of Object.entries(TABLES) as [string, TableDesign][]) {
      const keySchema = [{ AttributeName: design.partitionKey.name, KeyType: "HASH" }];
      if (design.sortKey) keySchema.push({ AttributeName: design.sortKey.name, KeyType: "RANGE" });
      const indexes = Object.entries(design.indexes).map(([IndexName, index]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: "HASH" },
          ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" }] : []),
        ],
        Projection: { ProjectionType: "ALL" },
      }));
      s.template.hasResource("AWS::DynamoDB::Table", {
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: Match.objectLike({
          KeySchema: keySchema,
          BillingMode: "PAY_PER_REQUEST",
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: "KMS" }),
          ...(indexes.length > 0
            ? { GlobalSecondaryIndexes: Match.arrayEquals(indexes) }
            : { GlobalSecondaryIndexes: Match.absent() }),
          TimeToLiveSpecification: design.ttlAttribute
            ? { AttributeName: design.ttlAttribute, Enabled: true }
            : Match.absent(),
        }),
      });
      expect(s.stack.tables.byKind[kind as keyof typeof TABLES]).toBeDefined();
    }
  });
});

describe("functions", () => {
  const functions = () =>
    Object.entries(resourcesOf(s.json, "AWS::Lambda::Function")).filter(([, fn]) =>
      String(fn.Properties?.Description ?? "").startsWith("keyheal"),
    );

  it("makes one function per task, plus intake, the API and the secret sweep", () => {
    expect(functions()).toHaveLength(Object.keys(TASKS).length + 3);
    expect(Object.keys(TASK_ACCESS).sort()).toEqual(Object.keys(TASKS).sort());
  });

  it("runs every function on Node.js 24 / ARM64 with JSON logs into its own encrypted, retained log group, traced", () => {
    const logGroups = resourcesOf(s.json, "AWS::Logs::LogGroup");
    for (const [id, fn] of functions()) {
      const props = fn.Properties as Record<string, unknown>;
      expect(props.Runtime, id).toBe("nodejs24.x");
      expect(props.Architectures, id).toEqual(["arm64"]);
      expect(props.TracingConfig, id).toEqual({ Mode: "Active" });
      const logging = props.LoggingConfig as { LogFormat: string; LogGroup: unknown };
      expect(logging.LogFormat, id).toBe("JSON");
      const group = logGroups[refId(logging.LogGroup) as string];
      expect(group?.Properties?.KmsKeyId, id).toBeDefined();
      expect(group?.Properties?.RetentionInDays, id).toBe(90);
      s.template.hasResource("AWS::Logs::LogGroup", {
        DeletionPolicy: "Retain",
        Properties: Match.objectLike({ RetentionInDays: 90 }),
      });
    }
  });

  it("derives the SSH tasks' timeout from the SSH timeouts, within Lambda's limit", () => {
    for (const [task, access] of Object.entries(TASK_ACCESS)) {
      const fn = s.stack.functions.byTask[task as TaskName].function;
      const timeout = (s.json.Resources as Record<string, { Properties: { Timeout: number } }>)[
        logicalId(fn)
      ]?.Properties.Timeout as number;
      if (access.timeout === "ssh") {
        // 3 × (5 s + 15 s) + 14 × 20 s + 30 s with the default SSH timeouts.
        expect(timeout, task).toBe(370);
      } else {
        expect(timeout, task).toBeLessThan(370);
      }
    }
  });

  it("passes every task the environment its schema requires", () => {
    const detect = s.stack.functions.byTask.Detect.function;
    const variables = (
      s.json.Resources as Record<
        string,
        { Properties: { Environment: { Variables: Record<string, unknown> } } }
      >
    )[logicalId(detect)]?.Properties.Environment.Variables;
    expect(Object.keys(variables ?? {}).sort()).toEqual(
      [
        "DEVICES_TABLE",
        "FAILURES_TABLE",
        "KEYS_TABLE",
        "RUNS_TABLE",
        "SECRET_PREFIX",
        "SECRETS_KMS_KEY_ID",
        "SSH_CONNECT_TIMEOUT_MS",
        "SSH_HANDSHAKE_TIMEOUT_MS",
        "SSH_COMMAND_TIMEOUT_MS",
        "LEASE_TTL_MS",
        "FAILURE_TTL_DAYS",
      ].sort(),
    );
    expect(variables?.DEVICES_TABLE).toEqual({ Ref: logicalId(s.stack.tables.byKind.devices) });
  });

  it("bundles every function with esbuild into a module that loads and exports its handler", () => {
    const bundles = functions().map(([id, fn]) => {
      const key = (fn.Properties?.Code as { S3Key: string }).S3Key;
      const file = path.join(s.assemblyDir, `asset.${key.replace(/\.zip$/, "")}`, "index.js");
      expect(existsSync(file), `${id}: ${file}`).toBe(true);
      expect(statSync(file).size, id).toBeGreaterThan(10_000);
      return file;
    });
    // Loaded outside the project: a bundle may need only what Lambda has (NODE_PATH stands in
    // for the runtime's own SDK when the bundles leave it out).
    const nodePath = DEPLOYED_SDK === "runtime" ? path.join(PROJECT_ROOT, "node_modules") : "";
    const load = spawnSync(
      process.execPath,
      [
        "-e",
        `for (const file of ${JSON.stringify(bundles)}) {
           const { handler } = require(file);
           if (typeof handler !== "function") throw new Error(file + " exports no handler");
         }`,
      ],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH, NODE_PATH: nodePath },
        timeout: 60_000,
      },
    );
    expect(load.stderr).toBe("");
    expect(load.status).toBe(0);
    // What a bundle leaves out must be what Lambda has: Node's own modules and, when the SDK is
    // the runtime's, the SDK.
    for (const file of bundles) {
      const required = new Set(
        [...readFileSync(file, "utf8").matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? ""),
      );
      const outside = [...required].filter(
        (name) =>
          !isBuiltin(name) &&
          // ssh2's optional native helpers, each loaded inside a try/catch with a JS fallback.
          name !== "cpu-features" &&
          name !== "./crypto/build/Release/sshcrypto.node" &&
          !(DEPLOYED_SDK === "runtime" && /^@(aws-sdk|smithy)\//.test(name)),
      );
      expect(outside, file).toEqual([]);
    }
  });
});

describe("state machines", () => {
  it("builds each workflow as a Standard state machine from its ASL file, logging without execution data, traced", () => {
    const machines = resourcesOf(s.json, "AWS::StepFunctions::StateMachine");
    expect(Object.keys(machines)).toHaveLength(Object.keys(WORKFLOW_FILES).length);
    for (const [name, workflow] of Object.entries(s.stack.workflows.byName)) {
      const props = machines[logicalId(workflow.stateMachine)]?.Properties as Record<
        string,
        unknown
      >;
      expect(props.StateMachineType, name).toBe("STANDARD");
      expect(props.TracingConfiguration, name).toEqual({ Enabled: true });
      expect(props.LoggingConfiguration, name).toMatchObject({
        IncludeExecutionData: false,
        Level: "ALL",
      });
      // The definition deployed is the very file local mode runs.
      const key = (props.DefinitionS3Location as { Key: string }).Key;
      const staged = readFileSync(path.join(s.assemblyDir, `asset.${key}`), "utf8");
      expect(staged, name).toBe(readFileSync(path.join(PROJECT_ROOT, workflow.file), "utf8"));
    }
  });

  it("resolves every ASL placeholder to the function of the task it names, and nothing else", () => {
    const functionIds = taskFunctionIds();
    const machines = resourcesOf(s.json, "AWS::StepFunctions::StateMachine");
    for (const [name, workflow] of Object.entries(s.stack.workflows.byName)) {
      const asl = readFileSync(
        path.join(PROJECT_ROOT, WORKFLOW_FILES[name as "reconnect"]),
        "utf8",
      );
      const substitutions = machines[logicalId(workflow.stateMachine)]?.Properties
        ?.DefinitionSubstitutions as Record<string, unknown>;
      expect(Object.keys(substitutions).sort(), name).toEqual(placeholdersOf(asl).sort());
      for (const [placeholder, value] of Object.entries(substitutions)) {
        const task = placeholder.replace(/FunctionArn$/, "") as TaskName;
        expect(getAttId(value), `${name} ${placeholder}`).toBe(functionIds[task]);
      }
    }
  });

  it("lets each state machine invoke exactly the functions its definition names", () => {
    const functionIds = taskFunctionIds();
    for (const [name, workflow] of Object.entries(s.stack.workflows.byName)) {
      const roleId = logicalId(workflow.stateMachine.role as never);
      const invoke = policyStatements().filter(
        ({ policy, statement }) =>
          actionsOf(statement).includes("lambda:InvokeFunction") &&
          (s.json.Resources as Record<string, { Properties: { Roles: unknown[] } }>)[
            policy
          ]?.Properties.Roles.some((role) => refId(role) === roleId),
      );
      expect(invoke, name).toHaveLength(1);
      const resources = [invoke[0]?.statement.Resource].flat().map(getAttId).sort();
      expect(resources, name).toEqual(
        workflow.tasks.map((task) => functionIds[task as TaskName]).sort(),
      );
    }
  });
});

describe("events", () => {
  const intakeArn = () => ({ "Fn::GetAtt": [logicalId(s.stack.intake.intake.function), "Arn"] });

  it("sends EC2 instances entering running to the intake function, which starts the reconnect state machine", () => {
    s.template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: Match.absent(),
      EventPattern: {
        source: ["aws.ec2"],
        "detail-type": [DETAIL_TYPES.EC2_STATE_CHANGE],
        detail: { state: ["running"] },
      },
      Targets: [
        Match.objectLike({
          Arn: intakeArn(),
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [logicalId(s.stack.intake.deadLetters.ec2Rule), "Arn"] },
          },
        }),
      ],
    });
    const reconnect = logicalId(s.stack.workflows.byName.reconnect.stateMachine);
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("event intake"),
      Environment: {
        Variables: Match.objectLike({ RECONNECT_STATE_MACHINE_ARN: { Ref: reconnect } }),
      },
    });
    // The intake function may start the reconnect workflow and no other.
    const starts = policyStatements().filter(({ statement }) =>
      actionsOf(statement).includes("states:StartExecution"),
    );
    const intakePolicy = starts.find(({ policy }) => policy.startsWith("IntakeRole"));
    expect(intakePolicy?.statement.Resource).toEqual({ Ref: reconnect });
  });

  it("sends Device Reconnected events on keyheal's bus to the intake function", () => {
    s.template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: { Ref: logicalId(s.stack.intake.bus) },
      EventPattern: {
        source: [KEYHEAL_EVENT_SOURCE],
        "detail-type": [DETAIL_TYPES.DEVICE_RECONNECTED],
      },
      Targets: [
        Match.objectLike({
          Arn: intakeArn(),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [logicalId(s.stack.intake.deadLetters.deviceRule), "Arn"] },
          },
        }),
      ],
    });
  });

  it("keeps the intake function's failed invocations in its own dead-letter queue", () => {
    s.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            "Fn::GetAtt": [logicalId(s.stack.intake.deadLetters.intake), "Arn"],
          },
        },
      },
    });
  });

  it("encrypts every dead-letter queue with the data key and refuses plain HTTP", () => {
    const queues = resourcesOf(s.json, "AWS::SQS::Queue");
    expect(Object.keys(queues)).toHaveLength(4);
    for (const [id, queue] of Object.entries(queues)) {
      expect(getAttId(queue.Properties?.KmsMasterKeyId), id).toMatch(/^EncryptionDataKey/);
    }
    const policies = Object.values(resourcesOf(s.json, "AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe("ops API", () => {
  it("requires IAM authorization on every method", () => {
    const methods = Object.values(resourcesOf(s.json, "AWS::ApiGateway::Method"));
    // Every route of lib/api/routes.ts, the two console routes and the redirect to the console.
    expect(methods).toHaveLength(ROUTES.length + 3);
    for (const method of methods) {
      expect(method.Properties?.AuthorizationType).toBe("AWS_IAM");
    }
  });

  it("proxies every route of the router to the API function", () => {
    const handler = logicalId(s.stack.opsApi.handler.function);
    const proxies = Object.values(resourcesOf(s.json, "AWS::ApiGateway::Method")).filter(
      (method) => (method.Properties?.Integration as { Type: string }).Type === "AWS_PROXY",
    );
    expect(proxies.map((m) => m.Properties?.HttpMethod).sort()).toEqual(
      ROUTES.map((route) => route.method).sort(),
    );
    for (const proxy of proxies) {
      expect(JSON.stringify(proxy.Properties?.Integration)).toContain(handler);
    }
  });

  it("checks path parameters and, where a route needs one, that the body is a JSON object", () => {
    s.template.hasResourceProperties("AWS::ApiGateway::RequestValidator", {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const withModel = Object.values(resourcesOf(s.json, "AWS::ApiGateway::Method")).filter(
      (method) => method.Properties?.RequestModels !== undefined,
    );
    expect(withModel).toHaveLength(BODY_REQUIRED.size);
    s.template.hasResourceProperties("AWS::ApiGateway::Method", {
      RequestParameters: { "method.request.path.id": true },
      AuthorizationType: "AWS_IAM",
    });
  });

  it("answers API Gateway's own refusals in the API's error shape", () => {
    for (const type of ["DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY"]) {
      s.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
        ResponseType: type,
        ResponseTemplates: {
          "application/json": Match.stringLikeRegexp('^\\{"error":"[^"]+".*"message":'),
        },
      });
    }
  });

  it("lets only this API and the four rules invoke their functions", () => {
    const permissions = Object.values(resourcesOf(s.json, "AWS::Lambda::Permission")).map(
      (p) => p.Properties as { FunctionName: unknown; Principal: string; SourceArn: unknown },
    );
    const apiHandler = logicalId(s.stack.opsApi.handler.function);
    const intake = logicalId(s.stack.intake.intake.function);
    const releaseRun = logicalId(s.stack.functions.byTask.ReleaseRun.function);
    const sweep = logicalId(s.stack.secretSweeper.function.function);
    for (const permission of permissions) {
      expect(permission.SourceArn).toBeDefined();
      const target = getAttId(permission.FunctionName);
      if (permission.Principal === "apigateway.amazonaws.com") {
        expect(target).toBe(apiHandler);
        expect(JSON.stringify(permission.SourceArn)).toContain(logicalId(s.stack.opsApi.api));
      } else {
        expect(permission.Principal).toBe("events.amazonaws.com");
        expect([intake, releaseRun, sweep]).toContain(target);
      }
    }
    // One per API method with a Lambda proxy, one per rule (two intake, release-run, sweep).
    expect(permissions).toHaveLength(ROUTES.length + 4);
  });

  it("logs access, traces, and never logs request data", () => {
    s.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: API_STAGE,
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [
        Match.objectLike({
          DataTraceEnabled: false,
          LoggingLevel: "ERROR",
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
      ],
    });
  });

  it("serves the console from a private bucket through the API", () => {
    // The console's files and their access logs, and the rotation manifests.
    s.template.resourceCountIs("AWS::S3::Bucket", 3);
    s.template.allResourcesProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    s.template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "GET",
      AuthorizationType: "AWS_IAM",
      Integration: Match.objectLike({
        Type: "AWS",
        Credentials: {
          "Fn::GetAtt": [logicalId(s.stack.consoleFiles.readRole as never), "Arn"],
        },
      }),
    });
    s.template.hasResourceProperties("Custom::CDKBucketDeployment", {
      DestinationBucketName: { Ref: logicalId(s.stack.consoleFiles.bucket as never) },
    });
  });
});

describe("IAM", () => {
  it('gives Resource "*" only to actions that have no resource-level permissions', () => {
    const wide = policyStatements().filter(({ statement }) =>
      [statement.Resource].flat().includes("*"),
    );
    expect(wide.length).toBeGreaterThan(0);
    for (const { policy, statement } of wide) {
      for (const action of actionsOf(statement)) {
        expect(Object.keys(UNSCOPABLE_ACTIONS), `${policy}: ${action}`).toContain(action);
      }
    }
  });

  it("never allows wildcard actions beyond CDK's KMS and BucketDeployment grants", () => {
    for (const { policy, statement } of policyStatements()) {
      for (const action of actionsOf(statement)) {
        if (!action.includes("*")) continue;
        const allowed =
          /^kms:(ReEncrypt|GenerateDataKey)\*$/.test(action) ||
          (policy.startsWith("CustomCDKBucketDeployment") && action.startsWith("s3:"));
        expect(allowed, `${policy}: ${action}`).toBe(true);
      }
    }
  });

  it("scopes Secrets Manager to keyheal's prefix, and the secrets key to Secrets Manager", () => {
    const secrets = policyStatements().filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith("secretsmanager:")),
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const { statement } of secrets) {
      // ListSecrets alone takes no ARN (the sweep); its answers are checked against the prefix.
      if (actionsOf(statement).join() === "secretsmanager:ListSecrets") continue;
      expect(JSON.stringify(statement.Resource)).toContain(":secret:keyheal/*");
    }
    const secretKey = logicalId(
      s.stack.node.findChild("Encryption").node.findChild("SecretsKey") as never,
    );
    const keyUses = policyStatements().filter(
      ({ statement }) => getAttId(statement.Resource) === secretKey,
    );
    expect(keyUses.length).toBeGreaterThan(0);
    for (const { statement } of keyUses) {
      expect(JSON.stringify(statement)).toContain("kms:ViaService");
    }
  });
});

describe("issue 10.6: the sweep of expired operator secrets", () => {
  it("issue 10.6: runs the sweep function every 5 minutes, retried, with its own dead-letter queue", () => {
    const sweep = s.stack.secretSweeper;
    const rule = resourcesOf(s.json, "AWS::Events::Rule")[logicalId(sweep.rule)];
    expect(rule?.Properties?.ScheduleExpression).toBe("rate(5 minutes)");
    const [target] = rule?.Properties?.Targets as Array<Record<string, unknown>>;
    expect(getAttId(target?.Arn)).toBe(logicalId(sweep.function.function));
    expect(target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    expect(getAttId((target?.DeadLetterConfig as { Arn: unknown }).Arn)).toBe(
      logicalId(sweep.deadLetters),
    );
  });

  it("issue 10.6: lets the sweep list secrets and delete only keyheal's, nothing else", () => {
    const role = logicalId(s.stack.secretSweeper.function.role);
    const own = policyStatements().filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith("secretsmanager:")),
    );
    const sweeps = own.filter(({ policy }) =>
      JSON.stringify(resourcesOf(s.json, "AWS::IAM::Policy")[policy]?.Properties?.Roles).includes(
        role,
      ),
    );
    const actions = sweeps.flatMap(({ statement }) => actionsOf(statement)).sort();
    expect(actions).toEqual([
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:ListSecrets",
    ]);
  });
});

describe("secrets stay out of the template", () => {
  it("holds no private key, password or secret value", () => {
    const key = generateKeyPair({ type: "ed25519", comment: "keyheal-test" });
    const document = JSON.stringify(s.json);
    const keyBody = key.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
    for (const line of keyBody) expect(document).not.toContain(line);
    expect(document).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(document).not.toContain("SecretString");
    expect(Object.keys(resourcesOf(s.json, "AWS::SecretsManager::Secret"))).toEqual([]);
    const parameters = Object.keys((s.json.Parameters as Record<string, unknown>) ?? {});
    expect(parameters.filter((p) => /pass|secret|private|token|credential/i.test(p))).toEqual([]);
    for (const [id, fn] of Object.entries(resourcesOf(s.json, "AWS::Lambda::Function"))) {
      const variables = (fn.Properties?.Environment as { Variables?: object } | undefined)
        ?.Variables;
      for (const name of Object.keys(variables ?? {})) {
        expect(name, id).not.toMatch(/PASSWORD|PASSPHRASE|PRIVATE_KEY|TOKEN|CREDENTIAL/);
      }
    }
  });
});

describe("monitoring", () => {
  it("alarms on failed runs of each state machine, a spike of each failure cause, each dead-letter queue and API errors", () => {
    const alarms = Object.values(resourcesOf(s.json, "AWS::CloudWatch::Alarm"));
    expect(alarms).toHaveLength(
      Object.keys(WORKFLOW_FILES).length + Object.keys(CAUSES).length + 4 + 1,
    );
    for (const cause of Object.keys(CAUSES)) {
      s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: `Failed_${cause}`,
        Namespace: METRICS.namespace,
        Dimensions: [{ Name: "service", Value: METRICS.dimensions.service }],
      });
    }
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toHaveLength(1);
    }
    s.template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    s.template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
  });

  it("watches the namespace and dimensions the functions' Powertools metrics are published under", () => {
    metrics.addMetric("Failed_TIMEOUT", "Count", 1);
    const emf = metrics.serializeMetrics();
    metrics.clearMetrics();
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe(METRICS.namespace);
    expect(directive?.Dimensions).toEqual([Object.keys(METRICS.dimensions)]);
    expect((emf as unknown as Record<string, unknown>).service).toBe(METRICS.dimensions.service);
  });
});

describe("keys", () => {
  it("lets EventBridge, CloudWatch alarms and CloudWatch Logs use only the keys they write with", () => {
    const keys = resourcesOf(s.json, "AWS::KMS::Key");
    const principals = (id: string) =>
      JSON.stringify(
        (
          keys[id]?.Properties?.KeyPolicy as { Statement: Array<{ Principal: unknown }> }
        ).Statement.map((statement) => statement.Principal),
      );
    const encryption = s.stack.node.findChild("Encryption");
    const id = (name: string) => logicalId(encryption.node.findChild(name) as never);
    expect(principals(id("DataKey"))).toContain("events.amazonaws.com");
    expect(principals(id("DataKey"))).toContain("cloudwatch.amazonaws.com");
    expect(principals(id("LogsKey"))).toContain("logs.");
    expect(principals(id("SecretsKey"))).not.toContain("amazonaws.com");
  });

  it("rotates every customer-managed key and keeps it when the stack goes", () => {
    s.template.resourceCountIs("AWS::KMS::Key", 3);
    s.template.allResources("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
  });
});

it("outputs the API URL and the event bus", () => {
  s.template.hasOutput("ApiUrl", Match.anyValue());
  s.template.hasOutput("EventBusName", { Value: { Ref: logicalId(s.stack.intake.bus) } });
  s.template.hasOutput("ConsoleUrl", Match.anyValue());
});

describe("rotation at fleet scale", () => {
  it("issue 11: lets the rotate machine run its Distributed Map: children, manifests and results", () => {
    const machine = resourcesOf(s.json, "AWS::StepFunctions::StateMachine")[
      logicalId(s.stack.workflows.byName.rotate.stateMachine)
    ];
    expect(machine?.Properties).toMatchObject({ StateMachineName: "Keyheal-rotate" });
    const role = logicalId(s.stack.workflows.byName.rotate.stateMachine.role);
    const policy = Object.values(resourcesOf(s.json, "AWS::IAM::Policy")).find((p) =>
      JSON.stringify(p.Properties).includes(role),
    );
    const text = JSON.stringify(policy?.Properties);
    for (const action of ["states:StartExecution", "states:StopExecution", "s3:GetObject"]) {
      expect(text).toContain(action);
    }
    expect(text).toContain(logicalId(s.stack.manifests.bucket));
    const listDevices = Object.values(resourcesOf(s.json, "AWS::Lambda::Function")).find((f) =>
      JSON.stringify(f.Properties).includes("MANIFEST_BUCKET"),
    );
    expect(JSON.stringify(listDevices?.Properties)).toContain("workflow task ListDevices");
  });

  it("issue 11: hands a rotation that failed, timed out or was stopped to ReleaseRun", () => {
    s.template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: Match.objectLike({ status: ["FAILED", "TIMED_OUT", "ABORTED"] }),
      },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [logicalId(s.stack.functions.byTask.ReleaseRun.function), "Arn"] },
          InputTransformer: Match.objectLike({
            InputPathsMap: Match.objectLike({ "detail-executionArn": "$.detail.executionArn" }),
          }),
        }),
      ],
    });
  });
});
