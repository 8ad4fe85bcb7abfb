/**
 * Lambda on this machine: each function of the template runs its own bundle in its own child
 * process (test/stack/lambda-child.ts), started at its first invocation and kept warm, as a
 * Lambda execution environment is. The environment is the template's, resolved to the local
 * resources, plus what the Lambda runtime itself sets (region, credentials, function name, log
 * level) and the standard SDK endpoint variables that point DynamoDB and Step Functions here.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CloudModel } from "./cloud-model.ts";
import { functionIdOf, type LocalTemplate, REGION } from "./template.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = path.resolve(HERE, "../..");

/** What a function returned, or the error Lambda reports for it. */
export type Invocation =
  | { ok: true; value: unknown }
  | { ok: false; error: { errorType: string; errorMessage: string; trace?: string[] } };

export interface FunctionSpec {
  id: string;
  bundleDir: string;
  handler: string;
  timeoutSeconds: number;
  memory: number;
  /** The template's variables, resolved. */
  environment: Record<string, string>;
}

type ChildMessage =
  | { type: "ready" }
  | { type: "init-error"; errorType: string; errorMessage: string }
  | { type: "result"; id: number; value?: unknown; error?: Invocation & { ok: false } }
  | { type: "aws"; id: number; service: string; command: string; input: unknown };

export interface LambdaHostOptions {
  template: LocalTemplate;
  cloud: CloudModel;
  /** Endpoints the functions' SDK clients use: AWS_ENDPOINT_URL_<SERVICE>. */
  endpoints: Record<string, string>;
  /** Where each function's stdout and stderr (its logs) go. */
  logDir: string;
}

export class LambdaHost {
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  /** Functions of the template in another runtime than Node.js, not hosted. */
  readonly otherRuntimes: Array<{ id: string; runtime: string }> = [];
  readonly #options: LambdaHostOptions;
  readonly #children = new Map<string, Promise<ChildProcess>>();
  readonly #waiting = new Map<number, { child: ChildProcess; done(result: Invocation): void }>();
  #next = 0;
  /** Every invocation, in order: function id and event (tests count deliveries). */
  readonly invocations: Array<{ functionId: string; event: unknown }> = [];

  constructor(options: LambdaHostOptions) {
    this.#options = options;
    mkdirSync(options.logDir, { recursive: true });
    const functions = new Map<string, FunctionSpec>();
    for (const [id, props] of options.template.ofType("AWS::Lambda::Function")) {
      // Node.js bundles only: CDK's own providers in other runtimes (the console's
      // BucketDeployment is Python, and in the template only once the console is built) are
      // listed apart, not hosted.
      if (!String(props.Runtime).startsWith("nodejs")) {
        this.otherRuntimes.push({ id, runtime: String(props.Runtime) });
        continue;
      }
      const code = props.Code as { S3Key: string };
      const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const environment = options.template.resolve(variables ?? {}, id) as Record<string, unknown>;
      functions.set(id, {
        id,
        bundleDir: options.template.bundleDir(code.S3Key),
        handler: String(props.Handler),
        timeoutSeconds: Number(props.Timeout ?? 3),
        memory: Number(props.MemorySize ?? 128),
        environment: Object.fromEntries(
          Object.entries(environment).map(([name, value]) => [name, String(value)]),
        ),
      });
    }
    this.functions = functions;
  }

  /** The function a Lambda ARN names. */
  byArn(arn: string): FunctionSpec {
    const id = functionIdOf(arn);
    const spec = id === undefined ? undefined : this.functions.get(id);
    if (!spec) throw new Error(`No function of the template has the ARN ${arn}.`);
    return spec;
  }

  /** Invokes a function synchronously (RequestResponse), as Step Functions and API Gateway do. */
  async invoke(functionId: string, event: unknown): Promise<Invocation> {
    const spec = this.functions.get(functionId);
    if (!spec) throw new Error(`No function ${functionId} in the template.`);
    this.invocations.push({ functionId, event });
    let child: ChildProcess;
    try {
      child = await this.#child(spec);
    } catch (error) {
      return { ok: false, error: error as { errorType: string; errorMessage: string } };
    }
    const id = ++this.#next;
    return new Promise<Invocation>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({
          ok: false,
          error: {
            errorType: "Sandbox.Timedout",
            errorMessage: `Task timed out after ${spec.timeoutSeconds}.00 seconds`,
          },
        });
      }, spec.timeoutSeconds * 1000);
      this.#waiting.set(id, {
        child,
        done: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
      });
      child.send({ type: "invoke", id, event });
    });
  }

  #child(spec: FunctionSpec): Promise<ChildProcess> {
    let started = this.#children.get(spec.id);
    if (!started) {
      started = this.#start(spec);
      this.#children.set(spec.id, started);
      // A function that failed to load is tried again at its next invocation, as Lambda does.
      started.catch(() => this.#children.delete(spec.id));
    }
    return started;
  }

  #start(spec: FunctionSpec): Promise<ChildProcess> {
    const { endpoints, logDir } = this.#options;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      NODE_PATH: path.join(PROJECT_ROOT, "node_modules"),
      // What the Lambda runtime sets for every function.
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: "AKIASTACKHARNESS0000",
      AWS_SECRET_ACCESS_KEY: "stack-harness-secret",
      AWS_SESSION_TOKEN: "stack-harness-session",
      AWS_LAMBDA_FUNCTION_NAME: spec.id,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memory),
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_LOG_FORMAT: "JSON",
      AWS_LAMBDA_LOG_LEVEL: "INFO",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
      LAMBDA_TASK_ROOT: spec.bundleDir,
      ...Object.fromEntries(
        Object.entries(endpoints).map(([service, url]) => [`AWS_ENDPOINT_URL_${service}`, url]),
      ),
      ...spec.environment,
    };
    const child = fork(
      path.join(HERE, "lambda-child.ts"),
      [spec.bundleDir, spec.handler, spec.id, String(spec.timeoutSeconds), String(spec.memory)],
      {
        env,
        cwd: existsSync(spec.bundleDir) ? spec.bundleDir : logDir,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        execArgv: [],
      },
    );
    const log = createWriteStream(path.join(logDir, `${spec.id}.log`), { flags: "a" });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return new Promise<ChildProcess>((resolve, reject) => {
      child.on("message", (message: ChildMessage) => {
        switch (message.type) {
          case "ready":
            resolve(child);
            return;
          case "init-error":
            reject({ errorType: message.errorType, errorMessage: message.errorMessage });
            return;
          case "result": {
            const done = this.#waiting.get(message.id);
            this.#waiting.delete(message.id);
            done?.done(
              message.error
                ? { ok: false, error: message.error as never }
                : { ok: true, value: message.value },
            );
            return;
          }
          case "aws":
            this.#options.cloud.handle(message.service, message.command, message.input).then(
              (output) => child.send({ type: "aws-result", id: message.id, output }),
              (error: Error) =>
                child.send({
                  type: "aws-result",
                  id: message.id,
                  error: { name: error.name, message: error.message },
                }),
            );
            return;
        }
      });
      const exited = (code: number | null) => {
        const error = {
          errorType: "Runtime.ExitError",
          errorMessage: `${spec.id} exited with ${code}; see ${path.join(logDir, `${spec.id}.log`)}`,
        };
        this.#children.delete(spec.id);
        reject(error);
        // Invocations the environment was running when it died fail as on Lambda.
        for (const [id, waiting] of this.#waiting) {
          if (waiting.child !== child) continue;
          this.#waiting.delete(id);
          waiting.done({ ok: false, error });
        }
      };
      child.once("exit", exited);
      child.once("error", () => exited(null));
    });
  }

  async stop(): Promise<void> {
    const children = await Promise.allSettled([...this.#children.values()]);
    this.#children.clear();
    await Promise.all(
      children.map(async (settled) => {
        if (settled.status !== "fulfilled" || settled.value.exitCode !== null) return;
        const exited = new Promise((resolve) => settled.value.once("exit", resolve));
        settled.value.kill("SIGTERM");
        await exited;
      }),
    );
  }
}
