/**
 * Deploys the synthesized stack onto engines on this machine (docs/testing.md): its tables in
 * DynamoDB Local, its functions' bundles in child processes, its state machines in
 * aws-local-stepfunctions behind a Step Functions endpoint, its rules on a local EventBridge and
 * its REST API in front of the API function. EC2, Secrets Manager and S3 are one in-memory
 * account (test/stack/cloud-model.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { LocalRestApi } from "./api-gateway.ts";
import { CloudModel } from "./cloud-model.ts";
import { LocalEventBus } from "./event-bus.ts";
import { LambdaHost } from "./lambda-host.ts";
import { LocalStepFunctions } from "./step-functions.ts";
import { ACCOUNT, LocalTemplate, REGION, type Template } from "./template.ts";

export const CREDENTIALS = {
  accessKeyId: "AKIASTACKHARNESS0000",
  secretAccessKey: "stack-harness-secret",
};

export interface LocalStack {
  template: LocalTemplate;
  /** Table logical id → the name it was created under. */
  tables: Record<string, string>;
  dynamo: DynamoDBDocumentClient;
  lambda: LambdaHost;
  stepFunctions: LocalStepFunctions;
  /** An SDK client on the local Step Functions endpoint, as an operator's would be. */
  sfn: SFNClient;
  events: LocalEventBus;
  api: LocalRestApi;
  cloud: CloudModel;
  logDir: string;
  stop(): Promise<void>;
}

/** Creates every table of the template, with its keys, indexes and TTL. */
async function createTables(template: LocalTemplate, client: DynamoDBClient) {
  const tables: Record<string, string> = {};
  for (const [id, props] of template.ofType("AWS::DynamoDB::Table")) {
    const name = template.ref(id, id);
    const gsis = props.GlobalSecondaryIndexes as CreateTableCommandInput["GlobalSecondaryIndexes"];
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: props.KeySchema as CreateTableCommandInput["KeySchema"],
        AttributeDefinitions:
          props.AttributeDefinitions as CreateTableCommandInput["AttributeDefinitions"],
        ...(gsis ? { GlobalSecondaryIndexes: gsis } : {}),
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const ttl = props.TimeToLiveSpecification as
      | { AttributeName: string; Enabled: boolean }
      | undefined;
    if (ttl?.Enabled) {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: ttl }),
      );
    }
    tables[id] = name;
  }
  return tables;
}

export async function deployLocally(options: {
  template: Template;
  assemblyDir: string;
  dynamoEndpoint: string;
}): Promise<LocalStack> {
  const template = new LocalTemplate(
    options.template,
    options.assemblyDir,
    `stack-${randomBytes(3).toString("hex")}-`,
  );
  const raw = new DynamoDBClient({
    endpoint: options.dynamoEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const tables = await createTables(template, raw);
  const dynamo = DynamoDBDocumentClient.from(raw);
  const buckets = template.ofType("AWS::S3::Bucket").map(([id]) => template.ref(id, id));
  const cloud = new CloudModel(buckets);
  const logDir = mkdtempSync(path.join(tmpdir(), "keyheal-stack-logs-"));
  // The Step Functions service needs the functions and the functions need its endpoint: the
  // host learns the endpoint before any function starts.
  const endpoints: Record<string, string> = { DYNAMODB: options.dynamoEndpoint };
  const lambda = new LambdaHost({ template, cloud, endpoints, logDir });
  const stepFunctions = new LocalStepFunctions(template, lambda, cloud);
  endpoints.SFN = await stepFunctions.listen();
  const events = new LocalEventBus(template, lambda);
  // Step Functions reports every execution's status change on the default bus.
  stepFunctions.onStatusChange(async (execution) => {
    await events.put({
      version: "0",
      id: randomBytes(16).toString("hex"),
      "detail-type": "Step Functions Execution Status Change",
      source: "aws.states",
      account: ACCOUNT,
      time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      region: REGION,
      resources: [execution.arn],
      detail: {
        executionArn: execution.arn,
        stateMachineArn: execution.machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate.getTime(),
        stopDate: execution.stopDate?.getTime() ?? null,
        input: execution.input,
        output: execution.output ?? null,
        inputDetails: { included: true },
        outputDetails: execution.output === undefined ? null : { included: true },
        error: execution.error ?? null,
        cause: execution.cause ?? null,
      },
    });
  });
  const api = new LocalRestApi(template, lambda);
  const sfn = new SFNClient({ endpoint: endpoints.SFN, region: REGION, credentials: CREDENTIALS });
  return {
    template,
    tables,
    dynamo,
    lambda,
    stepFunctions,
    sfn,
    events,
    api,
    cloud,
    logDir,
    async stop() {
      await stepFunctions.close();
      await lambda.stop();
      sfn.destroy();
      await Promise.all(
        Object.values(tables).map((TableName) =>
          raw.send(new DeleteTableCommand({ TableName })).catch(() => undefined),
        ),
      );
      raw.destroy();
    },
  };
}
