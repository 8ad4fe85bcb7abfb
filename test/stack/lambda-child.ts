/**
 * One Lambda function's execution environment: a child process that loads the function's own
 * bundle from the cloud assembly (its `index.js`, the export its Handler names), with the
 * environment the template gives it, and runs the invocations the parent sends over IPC.
 *
 * The bundles leave the AWS SDK to the runtime (cdk/bundling.ts): `require("@aws-sdk/…")`
 * resolves through NODE_PATH to the project's SDK, as Lambda's runtime resolves its own. The EC2,
 * Secrets Manager and S3 clients are mocked here with aws-sdk-client-mock, in this process (a mock
 * only reaches clients in its own process), and every call is answered by the parent's cloud
 * model (test/stack/cloud-model.ts) so all functions see one account. DynamoDB and Step Functions
 * are not mocked: the SDK reaches DynamoDB Local and the parent's Step Functions endpoint through
 * AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SFN.
 *
 * argv: <bundle dir> <handler ("index.handler")> <function name> <timeout seconds> <memory MB>
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { Readable } from "node:stream";

type Message =
  | { type: "invoke"; id: number; event: unknown }
  | { type: "aws-result"; id: number; output?: unknown; error?: { name: string; message: string } };

const [bundleDir = "", handlerSpec = "", functionName = "", timeoutText = "3", memory = "128"] =
  process.argv.slice(2);
const send = (message: object) => process.send?.(message);

// The SDK the bundle will require, through the same NODE_PATH entry.
const sdkRequire = createRequire(path.join(String(process.env.NODE_PATH), "noop.js"));
const mockClient = (client: never) =>
  (sdkRequire("aws-sdk-client-mock") as typeof import("aws-sdk-client-mock")).mockClient(client);
const sdkStreamMixin = (stream: Readable) =>
  (sdkRequire("@smithy/core/serde") as { sdkStreamMixin: (s: Readable) => unknown }).sdkStreamMixin(
    stream,
  );

let nextCall = 0;
const pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();

type SdkModule = Record<string, unknown>;

/** An AWS error as the SDK raises it: the modelled exception class when there is one. */
function awsError(module: SdkModule, base: string, error: { name: string; message: string }) {
  const options = { message: error.message, $metadata: { httpStatusCode: 400 } };
  const Modelled = module[error.name] as (new (o: object) => Error) | undefined;
  if (typeof Modelled === "function") return new Modelled(options);
  const Base = module[base] as new (o: object) => Error & { Code?: string };
  const generic = new Base({ ...options, name: error.name, $fault: "client" });
  generic.Code = error.name;
  return generic;
}

// Only the clients the bundle requires are loaded and mocked (the EC2 client alone takes a
// second to load): a function's cold start stays what it is on Lambda.
const [moduleFile, exportName] = handlerSpec.split(".");
const bundleFile = path.join(bundleDir, `${moduleFile}.js`);
let bundleText = "";
try {
  bundleText = readFileSync(bundleFile, "utf8");
} catch {
  // Reported below, as Lambda reports a module it cannot load.
}

function serve(
  moduleName: string,
  clientName: string,
  exceptionName: string,
  service: string,
  commands: readonly string[],
  shape: (command: string, output: unknown) => unknown = (_c, output) => output,
) {
  if (!bundleText.includes(`"${moduleName}"`)) return;
  const module = sdkRequire(moduleName) as SdkModule;
  const mock = mockClient(module[clientName] as never);
  mock.onAnyCommand().callsFake(() => {
    throw new Error(`${service}: only ${commands.join(", ")} are served by the stack harness`);
  });
  for (const command of commands) {
    mock.on(module[`${command}Command`] as never).callsFake(
      (input: unknown) =>
        new Promise((resolve, reject) => {
          const id = ++nextCall;
          pending.set(id, {
            resolve: (output) => resolve(shape(command, output)),
            reject: (error) =>
              reject(awsError(module, exceptionName, error as { name: string; message: string })),
          });
          send({ type: "aws", id, service, command, input });
        }),
    );
  }
}

serve("@aws-sdk/client-ec2", "EC2Client", "EC2ServiceException", "ec2", [
  "DescribeInstances",
  "DescribeSecurityGroups",
]);
serve(
  "@aws-sdk/client-secrets-manager",
  "SecretsManagerClient",
  "SecretsManagerServiceException",
  "secretsmanager",
  [
    "CreateSecret",
    "PutSecretValue",
    "GetSecretValue",
    "DescribeSecret",
    "DeleteSecret",
    "ListSecrets",
    "TagResource",
    "UntagResource",
  ],
  (command, output) => {
    // Dates travel over IPC as text; the SDK hands them out as Date objects.
    const o = output as Record<string, unknown> & { SecretList?: Record<string, unknown>[] };
    for (const item of command === "ListSecrets" ? (o.SecretList ?? []) : [o]) {
      for (const field of ["CreatedDate", "DeletedDate", "LastChangedDate", "DeletionDate"]) {
        if (typeof item[field] === "string") item[field] = new Date(item[field] as string);
      }
    }
    return o;
  },
);
serve(
  "@aws-sdk/client-s3",
  "S3Client",
  "S3ServiceException",
  "s3",
  ["PutObject", "GetObject"],
  (command, output) => {
    if (command !== "GetObject") return output;
    const { Body, ...rest } = output as { Body: string };
    return { ...rest, Body: sdkStreamMixin(Readable.from([Buffer.from(Body, "utf8")])) };
  },
);

// Lambda's own errors for a bundle that does not load or a handler that is not there.
let handler: (event: unknown, context: object) => Promise<unknown>;
try {
  const loaded = sdkRequire(bundleFile) as Record<string, unknown>;
  const candidate = loaded[exportName ?? ""];
  if (typeof candidate !== "function") {
    send({
      type: "init-error",
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `${handlerSpec} is undefined or not exported`,
    });
    process.exit(1);
  }
  handler = candidate as typeof handler;
} catch (error) {
  send({
    type: "init-error",
    errorType: "Runtime.ImportModuleError",
    errorMessage: `Error: Cannot load ${moduleFile}: ${(error as Error).message}`,
  });
  process.exit(1);
}
send({ type: "ready" });

process.on("message", (message: Message) => {
  if (message.type === "aws-result") {
    const call = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) call?.reject(message.error);
    else call?.resolve(message.output);
    return;
  }
  const deadline = Date.now() + Number(timeoutText) * 1000;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${functionName}`,
    memoryLimitInMB: memory,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  Promise.resolve()
    .then(() => handler(message.event, context))
    .then(
      (value) => send({ type: "result", id: message.id, value: value ?? null }),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        send({
          type: "result",
          id: message.id,
          error: {
            errorType: e.name || "Error",
            errorMessage: e.message,
            trace: (e.stack ?? "").split("\n"),
          },
        });
      },
    );
});
