import * as z from "zod";

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The environment of every workflow function, validated once at cold start. The CDK construct
 * that creates the functions takes `TaskEnvironment`, so a missing variable fails `cdk synth`.
 */
export const taskEnvironmentSchema = z.object({
  DEVICES_TABLE: z.string().min(1),
  FAILURES_TABLE: z.string().min(1),
  KEYS_TABLE: z.string().min(1),
  RUNS_TABLE: z.string().min(1),
  /** Secrets Manager name prefix for platform keys and operator secrets. */
  SECRET_PREFIX: z.string().min(1).default("keyheal/"),
  SECRETS_KMS_KEY_ID: z.string().optional(),
  /** keyheal's own source, checked against security groups when a device is unreachable. */
  SSH_SOURCE_SECURITY_GROUP_ID: z.string().optional(),
  SSH_SOURCE_CIDR: z.string().optional(),
  SSH_CONNECT_TIMEOUT_MS: ms(5_000),
  SSH_HANDSHAKE_TIMEOUT_MS: ms(15_000),
  SSH_COMMAND_TIMEOUT_MS: ms(20_000),
  LEASE_TTL_MS: ms(15 * 60_000),
  FAILURE_TTL_DAYS: z.coerce.number().int().positive().default(90),
  /** The bucket of rotation manifests; the fleet listing writes there (docs/scale.md). */
  MANIFEST_BUCKET: z.string().min(1).optional(),
  /** Only set for tests against a local engine; absent on AWS. */
  DYNAMODB_ENDPOINT: z.url().optional(),
});
export type TaskEnvironment = z.input<typeof taskEnvironmentSchema>;
export type ParsedTaskEnvironment = z.output<typeof taskEnvironmentSchema>;

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
 * `env` checked against `schema`, once at cold start.
 *
 * @throws InvalidEnvironmentError naming every variable that is missing or wrong.
 */
export function parseEnvironment<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new InvalidEnvironmentError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    );
  }
  return parsed.data;
}

export function parseTaskEnvironment(
  env: Record<string, string | undefined>,
): ParsedTaskEnvironment {
  return parseEnvironment(taskEnvironmentSchema, env);
}

/**
 * The environment of the scheduled sweep of expired operator secrets, validated once at cold
 * start. The CDK construct takes `SweepEnvironment`.
 */
export const sweepEnvironmentSchema = z.object({
  /** Only secrets under this prefix are swept. */
  SECRET_PREFIX: z.string().min(1).default("keyheal/"),
});
export type SweepEnvironment = z.input<typeof sweepEnvironmentSchema>;

export function readSweepEnvironment(): z.output<typeof sweepEnvironmentSchema> {
  return parseEnvironment(sweepEnvironmentSchema, process.env);
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>`. */
const stateMachineArn = z
  .string()
  .regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
    error: "must be a Step Functions state machine ARN",
  });

/**
 * The environment of the intake function (EventBridge → start the reconnect run), validated
 * once at cold start. The CDK construct takes `IntakeEnvironment`.
 */
export const intakeEnvironmentSchema = z
  .object({
    DEVICES_TABLE: z.string().min(1),
    RECONNECT_STATE_MACHINE_ARN: stateMachineArn,
    RESOLVE_STATE_MACHINE_ARN: stateMachineArn,
    ROTATE_STATE_MACHINE_ARN: stateMachineArn,
    /** When set, an EC2 event counts only while its instance carries this tag. */
    MANAGED_TAG_KEY: z.string().min(1).optional(),
    /** With `MANAGED_TAG_KEY`: the tag must have this value (any value when absent). */
    MANAGED_TAG_VALUE: z.string().min(1).optional(),
    /** Only set for tests against a local engine; absent on AWS. */
    DYNAMODB_ENDPOINT: z.url().optional(),
  })
  .refine((env) => env.MANAGED_TAG_VALUE === undefined || env.MANAGED_TAG_KEY !== undefined, {
    path: ["MANAGED_TAG_VALUE"],
    error: "needs MANAGED_TAG_KEY",
  });
export type IntakeEnvironment = z.input<typeof intakeEnvironmentSchema>;
export type ParsedIntakeEnvironment = z.output<typeof intakeEnvironmentSchema>;

export function parseIntakeEnvironment(
  env: Record<string, string | undefined>,
): ParsedIntakeEnvironment {
  return parseEnvironment(intakeEnvironmentSchema, env);
}

/**
 * The environment of the ops API function (API Gateway → the same router as local mode),
 * validated once at cold start. The CDK construct takes `ApiEnvironment`.
 */
export const apiEnvironmentSchema = z
  .object({
    DEVICES_TABLE: z.string().min(1),
    FAILURES_TABLE: z.string().min(1),
    KEYS_TABLE: z.string().min(1),
    RUNS_TABLE: z.string().min(1),
    JOBS_TABLE: z.string().min(1),
    SECRET_PREFIX: z.string().min(1).default("keyheal/"),
    SECRETS_KMS_KEY_ID: z.string().optional(),
    RECONNECT_STATE_MACHINE_ARN: stateMachineArn,
    RESOLVE_STATE_MACHINE_ARN: stateMachineArn,
    ROTATE_STATE_MACHINE_ARN: stateMachineArn,
    /** How long an operator's resolve password or key lives in Secrets Manager. */
    RESOLVE_SECRET_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    FAILURE_TTL_DAYS: z.coerce.number().int().positive().default(90),
    MANAGED_TAG_KEY: z.string().min(1).optional(),
    MANAGED_TAG_VALUE: z.string().min(1).optional(),
    /** Only set for tests against a local engine; absent on AWS. */
    DYNAMODB_ENDPOINT: z.url().optional(),
  })
  .refine((env) => env.MANAGED_TAG_VALUE === undefined || env.MANAGED_TAG_KEY !== undefined, {
    path: ["MANAGED_TAG_VALUE"],
    error: "needs MANAGED_TAG_KEY",
  });
export type ApiEnvironment = z.input<typeof apiEnvironmentSchema>;
export type ParsedApiEnvironment = z.output<typeof apiEnvironmentSchema>;

export function parseApiEnvironment(env: Record<string, string | undefined>): ParsedApiEnvironment {
  return parseEnvironment(apiEnvironmentSchema, env);
}

export function readApiEnvironment(): ParsedApiEnvironment {
  return parseApiEnvironment(process.env);
}

/** The one place a function reads its process environment: validated, at cold start. */
export function readTaskEnvironment(): ParsedTaskEnvironment {
  return parseTaskEnvironment(process.env);
}

export function readIntakeEnvironment(): ParsedIntakeEnvironment {
  return parseIntakeEnvironment(process.env);
}
