import { InvokeStore, type InvokeStoreBase } from "@aws/lambda-invoke-store";
import * as z from "zod";

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>`. */
const stateMachineArn = z
  .string()
  .regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
    error: "must be a Step Functions state machine ARN",
  });

/** The tables every function that reads or writes records is given. */
const RECORD_TABLES = {
  DEVICES_TABLE: z.string().min(1),
  FAILURES_TABLE: z.string().min(1),
  KEYS_TABLE: z.string().min(1),
  RUNS_TABLE: z.string().min(1),
};

const SECRETS = {
  /** Secrets Manager name prefix for platform keys and operator secrets. */
  SECRET_PREFIX: z.string().min(1).default("keyheal/"),
  SECRETS_KMS_KEY_ID: z.string().optional(),
};

/** The three workflows, for the functions that start runs. */
const STATE_MACHINES = {
  RECONNECT_STATE_MACHINE_ARN: stateMachineArn,
  RESOLVE_STATE_MACHINE_ARN: stateMachineArn,
  ROTATE_STATE_MACHINE_ARN: stateMachineArn,
};

const FAILURE_TTL = { FAILURE_TTL_DAYS: z.coerce.number().int().positive().default(90) };

const LOCAL_ENGINE = {
  /** Only set for tests against a local engine; absent on AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
};

/**
 * When `MANAGED_TAG_KEY` is set, an EC2 event counts only while its instance carries this tag;
 * with `MANAGED_TAG_VALUE` too, with that value (which needs the key).
 */
const MANAGED_TAG = {
  MANAGED_TAG_KEY: z.string().min(1).optional(),
  MANAGED_TAG_VALUE: z.string().min(1).optional(),
};
const tagValueNeedsKey: [
  (env: {
    MANAGED_TAG_KEY?: string | undefined;
    MANAGED_TAG_VALUE?: string | undefined;
  }) => boolean,
  { path: string[]; error: string },
] = [
  (env) => env.MANAGED_TAG_VALUE === undefined || env.MANAGED_TAG_KEY !== undefined,
  { path: ["MANAGED_TAG_VALUE"], error: "needs MANAGED_TAG_KEY" },
];

/**
 * The environment of every workflow function. The CDK construct that creates the functions
 * takes `TaskEnvironment`, so a missing variable fails `cdk synth`.
 */
export const taskEnvironmentSchema = z.object({
  ...RECORD_TABLES,
  ...SECRETS,
  /** keyheal's own source, checked against security groups when a device is unreachable. */
  SSH_SOURCE_SECURITY_GROUP_ID: z.string().optional(),
  SSH_SOURCE_CIDR: z.string().optional(),
  SSH_CONNECT_TIMEOUT_MS: ms(5_000),
  SSH_HANDSHAKE_TIMEOUT_MS: ms(15_000),
  SSH_COMMAND_TIMEOUT_MS: ms(20_000),
  LEASE_TTL_MS: ms(15 * 60_000),
  ...FAILURE_TTL,
  /** The bucket of rotation manifests; the fleet listing writes there (docs/scale.md). */
  MANIFEST_BUCKET: z.string().min(1).optional(),
  ...LOCAL_ENGINE,
});
export type TaskEnvironment = z.input<typeof taskEnvironmentSchema>;

/** The scheduled sweep of expired operator secrets; only secrets under the prefix are swept. */
export const sweepEnvironmentSchema = z.object({ SECRET_PREFIX: SECRETS.SECRET_PREFIX });
export type SweepEnvironment = z.input<typeof sweepEnvironmentSchema>;

/** The intake function (EventBridge → start the reconnect run). */
export const intakeEnvironmentSchema = z
  .object({
    DEVICES_TABLE: RECORD_TABLES.DEVICES_TABLE,
    ...STATE_MACHINES,
    ...MANAGED_TAG,
    ...LOCAL_ENGINE,
  })
  .refine(...tagValueNeedsKey);
export type IntakeEnvironment = z.input<typeof intakeEnvironmentSchema>;

/** The ops API function (API Gateway → the same router as local mode). */
export const apiEnvironmentSchema = z
  .object({
    ...RECORD_TABLES,
    JOBS_TABLE: z.string().min(1),
    ...SECRETS,
    ...STATE_MACHINES,
    /** How long an operator's resolve password or key lives in Secrets Manager. */
    RESOLVE_SECRET_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    ...FAILURE_TTL,
    ...MANAGED_TAG,
    ...LOCAL_ENGINE,
  })
  .refine(...tagValueNeedsKey);
export type ApiEnvironment = z.input<typeof apiEnvironmentSchema>;

export class InvalidEnvironmentError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(
      `The function's environment is invalid: ${issues.join("; ")}. Redeploy with the stack's settings.`,
    );
    this.name = "InvalidEnvironmentError";
    this.issues = issues;
  }
}

/**
 * The one way a function reads its environment: `env` (the process's by default) checked
 * against `schema`, once at cold start.
 *
 * @throws InvalidEnvironmentError naming every variable that is missing or wrong.
 */
function environmentReader<S extends z.ZodType>(schema: S) {
  return (env: Record<string, string | undefined> = process.env): z.output<S> => {
    const parsed = schema.safeParse(env);
    if (!parsed.success) {
      throw new InvalidEnvironmentError(
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      );
    }
    return parsed.data;
  };
}

export const readTaskEnvironment = environmentReader(taskEnvironmentSchema);
export const readSweepEnvironment = environmentReader(sweepEnvironmentSchema);
export const readIntakeEnvironment = environmentReader(intakeEnvironmentSchema);
export const readApiEnvironment = environmentReader(apiEnvironmentSchema);
export type ParsedTaskEnvironment = ReturnType<typeof readTaskEnvironment>;
export type ParsedIntakeEnvironment = ReturnType<typeof readIntakeEnvironment>;
export type ParsedApiEnvironment = ReturnType<typeof readApiEnvironment>;

/**
 * Powertools keeps one invocation's log keys and Lambda context apart from another's only where
 * this variable is set and Lambda's InvokeStore exists: both are there when Lambda runs several
 * invocations in one environment, and the local runtime, which runs many tasks in one process,
 * sets up the same pair (`enableConcurrentInvocations`).
 */
const CONCURRENCY = "AWS_LAMBDA_MAX_CONCURRENCY";
const concurrencySchema = z.object({
  [CONCURRENCY]: z.string().optional(),
});
/** What the local runtime declares: Powertools only needs the variable set. */
const LOCAL_CONCURRENCY = "64";

/**
 * A process started by one that ran local tasks inherits the variable but not the store, and
 * Powertools would throw at its first use: the variable is dropped there. Runs before the
 * Powertools instances are made (`powertools.ts`).
 */
export function dropInheritedConcurrency(env: NodeJS.ProcessEnv = process.env): void {
  const declared = concurrencySchema.parse(env)[CONCURRENCY];
  const store = (globalThis as { awslambda?: { InvokeStore?: unknown } }).awslambda?.InvokeStore;
  if (declared !== undefined && !store) delete env[CONCURRENCY];
}

let concurrent: Promise<InvokeStoreBase> | undefined;

/** The InvokeStore the local runtime runs each task in, made once per process with the variable. */
export function enableConcurrentInvocations(
  env: NodeJS.ProcessEnv = process.env,
): Promise<InvokeStoreBase> {
  concurrent ??= InvokeStore.getInstanceAsync(true).then((store) => {
    env[CONCURRENCY] ??= LOCAL_CONCURRENCY;
    return store;
  });
  return concurrent;
}
