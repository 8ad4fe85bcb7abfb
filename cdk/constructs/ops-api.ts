import { ArnFormat, Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ROUTES } from "../../lib/api/routes.ts";
import { type ApiEnvironment, apiEnvironmentSchema } from "../../lib/lambda/env.ts";
import type { BundleSettings } from "../bundling.ts";
import { grantSecrets } from "./access.ts";
import type { ConsoleFiles } from "./console-files.ts";
import { type FunctionLogSettings, KeyhealFunction } from "./keyheal-function.ts";
import type { Tables } from "./tables.ts";
import type { Workflows } from "./workflows.ts";

export interface OpsApiProps {
  tables: Tables;
  workflows: Workflows;
  secretsKey: kms.IKey;
  secretPrefix: string;
  failureTtlDays: number;
  managedTag?: { key: string; value?: string | undefined } | undefined;
  console: ConsoleFiles;
  /** Serve the API (and the console) at the root of this domain too. */
  domain?: { name: string; certificateArn: string } | undefined;
  logsKey: kms.IKey;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
  logs: FunctionLogSettings;
  bundling: BundleSettings;
}

/**
 * Routes whose handler refuses a request without a JSON object body. Routes with an optional
 * body (POST /keys/rotate, POST /failures/{id}/retry) are not listed: API Gateway would refuse
 * their empty bodies.
 */
export const BODY_REQUIRED: ReadonlySet<string> = new Set([
  "POST /events",
  "POST /devices",
  "POST /devices/resolve",
  "POST /keys/import",
]);

/** The stage the API is deployed to; its URL is `https://<id>.execute-api.<region>.amazonaws.com/v1/`. */
export const API_STAGE = "v1";

/**
 * The ops API of docs/architecture.md, Contracts on API Gateway: a REST API whose resources are exactly the routes of
 * lib/api/routes.ts (so an IAM policy can allow, say, only the GETs), each a Lambda proxy to
 * functions/api.ts, and the console's files under /console. Every method requires AWS_IAM
 * (SigV4) authorization; the stage has access logs, X-Ray tracing, error-level execution logs
 * without request data (bodies may carry an operator's password), and throttling.
 */
export class OpsApi extends Construct {
  readonly api: apigw.RestApi;
  readonly handler: KeyhealFunction<typeof apiEnvironmentSchema>;
  readonly domain: { name: string; certificateArn: string } | undefined;

  constructor(scope: Construct, id: string, props: OpsApiProps) {
    super(scope, id);
    this.domain = props.domain;
    const machines = props.workflows.byName;
    const environment: ApiEnvironment = {
      ...props.tables.environment,
      SECRET_PREFIX: props.secretPrefix,
      SECRETS_KMS_KEY_ID: props.secretsKey.keyArn,
      RECONNECT_STATE_MACHINE_ARN: machines.reconnect.stateMachine.stateMachineArn,
      RESOLVE_STATE_MACHINE_ARN: machines.resolve.stateMachine.stateMachineArn,
      ROTATE_STATE_MACHINE_ARN: machines.rotate.stateMachine.stateMachineArn,
      FAILURE_TTL_DAYS: props.failureTtlDays,
      MANAGED_TAG_KEY: props.managedTag?.key,
      MANAGED_TAG_VALUE: props.managedTag?.value,
    };
    this.handler = new KeyhealFunction(this, "Handler", {
      entry: "functions/api.ts",
      description: "keyheal ops API (API Gateway REST, Lambda proxy)",
      schema: apiEnvironmentSchema,
      environment,
      // API Gateway gives up on an integration after 29 s.
      timeout: Duration.seconds(29),
      logs: props.logs,
      bundling: props.bundling,
    });
    this.grantApiAccess(props);

    const accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      encryptionKey: props.logsKey,
      removalPolicy: props.removalPolicy,
    });
    this.api = new apigw.RestApi(this, "Api", {
      description: "keyheal ops API (IAM authorization)",
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      deployOptions: {
        stageName: API_STAGE,
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      ...(props.domain
        ? {
            domainName: {
              domainName: props.domain.name,
              certificate: acm.Certificate.fromCertificateArn(
                this,
                "Certificate",
                props.domain.certificateArn,
              ),
              endpointType: apigw.EndpointType.REGIONAL,
              securityPolicy: apigw.SecurityPolicy.TLS_1_2,
            },
          }
        : {}),
    });
    // API Gateway's own refusals (unsigned request, unknown route, throttling) in the API's
    // error shape `{ error, message }`.
    for (const [gatewayId, type] of [
      ["Default4xx", apigw.ResponseType.DEFAULT_4XX],
      ["Default5xx", apigw.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(gatewayId, {
        type,
        templates: {
          "application/json":
            '{"error":"$context.error.responseType","message":$context.error.messageString}',
        },
      });
    }

    this.api.addGatewayResponse("BadRequestBody", {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      templates: {
        "application/json":
          '{"error":"BadRequest","field":"(body)","message":"The request body must be a JSON object."}',
      },
    });

    const validator = new apigw.RequestValidator(this, "Validator", {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const jsonObject = this.api.addModel("JsonObject", {
      contentType: "application/json",
      modelName: "JsonObject",
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: "JsonObject",
        type: apigw.JsonSchemaType.OBJECT,
      },
    });
    // No test-invoke permission: the console's test button would bypass IAM authorization.
    const integration = new apigw.LambdaIntegration(this.handler.function, {
      proxy: true,
      allowTestInvoke: false,
    });
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      // The handler's zod schemas validate bodies in full (one source of truth, the API's error
      // shape); API Gateway checks that every path parameter is there and that a body the
      // route requires is a JSON object.
      const requiresBody = BODY_REQUIRED.has(`${route.method} ${route.path}`);
      resource.addMethod(route.method, integration, {
        requestValidator: validator,
        ...(requiresBody ? { requestModels: { "application/json": jsonObject } } : {}),
        requestParameters: Object.fromEntries(
          pathParameters.map((name) => [`method.request.path.${name}`, true]),
        ),
      });
    }
    this.addConsole(props.console, validator);
  }

  /** The API's URL: the custom domain's root when there is one, else the stage URL. */
  get url(): string {
    return this.domain ? `https://${this.domain.name}/` : this.api.url;
  }

  private grantApiAccess(props: OpsApiProps) {
    const role = this.handler.role;
    for (const table of Object.values(props.tables.byKind)) table.grantReadWriteData(role);
    grantSecrets(role, this, {
      prefix: props.secretPrefix,
      key: props.secretsKey,
      uses: ["read", "write", "delete"],
    });
    const stack = Stack.of(this);
    const machines = Object.values(props.workflows.byName).map((w) => w.stateMachine);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["states:StartExecution"],
        resources: machines.map((m) => m.stateMachineArn),
      }),
    );
    // GET /runs/{id} reads the execution and its history; run ids are execution ARNs.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["states:DescribeExecution", "states:GetExecutionHistory"],
        resources: machines.map((m) =>
          stack.formatArn({
            service: "states",
            resource: "execution",
            resourceName: `${m.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    if (props.managedTag) {
      // POST /events applies the same managed-instance check as the intake function.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ["ec2:DescribeInstances"], resources: ["*"] }),
      );
    }
  }

  /**
   * GET /console and /console/{file+} read the console's files from the private bucket, with the
   * same IAM authorization as every other method; GET / redirects there.
   */
  private addConsole(files: ConsoleFiles, validator: apigw.RequestValidator) {
    if (!files.bucket || !files.readRole) return;
    const bucket = files.bucket;
    const s3Read = (key: string, parameters: Record<string, string> = {}) =>
      new apigw.AwsIntegration({
        service: "s3",
        integrationHttpMethod: "GET",
        path: `${bucket.bucketName}/${key}`,
        options: {
          credentialsRole: files.readRole,
          requestParameters: parameters,
          integrationResponses: [
            {
              statusCode: "200",
              responseParameters: {
                "method.response.header.Content-Type": "integration.response.header.Content-Type",
                "method.response.header.Cache-Control": "'no-cache'",
                "method.response.header.X-Content-Type-Options": "'nosniff'",
              },
            },
            {
              // S3 answers 403 for a missing key when the reader may not list the bucket.
              statusCode: "404",
              selectionPattern: "4\\d\\d",
              responseTemplates: {
                "application/json":
                  '{"error":"NotFound","message":"No such console file: run npm run build:web and deploy again if the console is missing."}',
              },
            },
          ],
        },
      });
    const methodResponses: apigw.MethodResponse[] = [
      {
        statusCode: "200",
        responseParameters: {
          "method.response.header.Content-Type": true,
          "method.response.header.Cache-Control": true,
          "method.response.header.X-Content-Type-Options": true,
        },
      },
      { statusCode: "404" },
    ];
    const consoleRoot = this.api.root.addResource("console");
    consoleRoot.addMethod("GET", s3Read("index.html"), { methodResponses });
    consoleRoot
      .addResource("{file+}")
      .addMethod(
        "GET",
        s3Read("{key}", { "integration.request.path.key": "method.request.path.file" }),
        {
          methodResponses,
          requestValidator: validator,
          requestParameters: { "method.request.path.file": true },
        },
      );
    this.api.root.addMethod(
      "GET",
      new apigw.MockIntegration({
        requestTemplates: { "application/json": '{"statusCode": 302}' },
        integrationResponses: [
          {
            statusCode: "302",
            responseParameters: { "method.response.header.Location": "'console/'" },
          },
        ],
      }),
      {
        methodResponses: [
          { statusCode: "302", responseParameters: { "method.response.header.Location": true } },
        ],
      },
    );
  }
}
