import { z } from "zod";

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

export function parseTaskEnvironment(
  env: Record<string, string | undefined>,
): ParsedTaskEnvironment {
  const parsed = taskEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new InvalidEnvironmentError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    );
  }
  return parsed.data;
}
