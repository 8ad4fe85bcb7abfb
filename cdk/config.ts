/**
 * The deployment's settings: read from cdk.json context (or `-c key=value`), or passed as props
 * by a program that embeds the stack, and validated here once, so a wrong value fails `cdk synth`
 * with the context key that holds it and what to put there.
 */
import * as z from "zod";

/** The context key every setting lives under: `"keyheal": { "devMode": true, … }` in cdk.json. */
export const CONTEXT_KEY = "keyheal";

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** `-c keyheal:devMode=true` arrives as a string; cdk.json gives a boolean. */
const flag = z.union([
  z.boolean(),
  z.enum(["true", "false"]).transform((value) => value === "true"),
]);

/** `-c keyheal:subnetIds=subnet-a,subnet-b` arrives as one string; cdk.json gives a list. */
const list = <T extends z.ZodType<string>>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((part) => part.trim())
            .filter((part) => part !== "")
        : value,
    z.array(item),
  );

const count = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const cidr = z
  .string()
  .regex(/^(\d{1,3})(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])$/, {
    error: "must be an IPv4 CIDR such as 10.0.0.0/16",
  })
  .refine(
    (value) =>
      value
        .split("/")[0]
        ?.split(".")
        .every((octet) => Number(octet) <= 255),
    {
      error: "has an octet above 255",
    },
  );

const vpcId = z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, {
  error: "must be a VPC id such as vpc-0123456789abcdef0",
});
const subnetId = z.string().regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, {
  error: "must be subnet ids such as subnet-0123456789abcdef0",
});
const securityGroupId = z.string().regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, {
  error: "must be a security group id such as sg-0123456789abcdef0",
});
const tagPart = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, { error: "must be a valid EC2 tag key or value" });

export const configSchema = z
  .object({
    /**
     * A throw-away deployment: tables without deletion protection, and every table, key, log
     * group and bucket deleted with the stack. Never on a fleet you care about.
     */
    devMode: flag.default(false),
    /** Run the functions in this VPC (to reach private devices); needs `subnetIds`. */
    vpcId: vpcId.optional(),
    /** Private subnets with a route to the devices and to AWS endpoints (NAT or VPC endpoints). */
    subnetIds: list(subnetId).optional(),
    /**
     * An existing security group for the functions. When absent (and `vpcId` is set), the stack
     * creates one allowing egress only to TCP 22 (`deviceCidrs`) and HTTPS (`awsEndpointsCidrs`).
     */
    securityGroupId: securityGroupId.optional(),
    /** Where devices live: the created security group's TCP 22 egress goes only there. */
    deviceCidrs: list(cidr).default(["0.0.0.0/0"]),
    /**
     * Where HTTPS to AWS APIs goes: 0.0.0.0/0 through a NAT gateway, or the VPC CIDR when every
     * service keyheal calls has an interface endpoint.
     */
    awsEndpointsCidrs: list(cidr).default(["0.0.0.0/0"]),
    /**
     * The management CIDR keyheal's SSH connections come from (the NAT gateway's address, or the
     * subnets'): devices must admit TCP 22 from it; an unreachable instance is diagnosed against it.
     */
    managementCidr: cidr.optional(),
    /** An EC2 instance counts only while it carries this tag. */
    managedTagKey: tagPart.optional(),
    /** With `managedTagKey`: the tag must have this value (any value when absent). */
    managedTagValue: tagPart.optional(),
    /** Days CloudWatch keeps the functions' and state machines' logs. */
    logRetentionDays: z.coerce
      .number()
      .refine((days) => (RETENTION_DAYS as readonly number[]).includes(days), {
        error: `must be one of ${RETENTION_DAYS.join(", ")}`,
      })
      .default(90),
    /** Days a failure record lives before DynamoDB's TTL removes it. */
    failureTtlDays: count(90),
    /** Secrets Manager name prefix of every secret keyheal writes; IAM is scoped to it. */
    secretPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*\/$/, {
        error: 'must be a path of Secrets Manager name characters ending in "/", such as keyheal/',
      })
      .default("keyheal/"),
    /** SSH timeouts of every connection; the functions' own timeouts are derived from them. */
    sshConnectTimeoutMs: count(5_000),
    sshHandshakeTimeoutMs: count(15_000),
    sshCommandTimeoutMs: count(20_000),
    /** Failed runs of one state machine within 15 minutes that raise its alarm. */
    failedRunsThreshold: count(3),
    /** Failures of one cause within 15 minutes that count as a spike. */
    failureSpikeThreshold: count(5),
    /**
     * A custom domain for the ops API (with `certificateArn`, an ACM certificate for it in the
     * stack's region): the API and the console are then served at the domain's root, which the
     * console needs (it calls /devices, /keys, … and loads /console/assets/… from the root).
     */
    domainName: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
        error: "must be a lower-case DNS name such as keyheal.example.com",
      })
      .optional(),
    certificateArn: z
      .string()
      .regex(/^arn:[a-z-]+:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, {
        error: "must be an ACM certificate ARN",
      })
      .optional(),
    /** Where alarm notifications go (an email subscription to the alarm topic). */
    alarmEmail: z.email({ error: "must be an email address" }).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.subnetIds !== undefined && config.vpcId === undefined) {
      ctx.addIssue({ code: "custom", path: ["vpcId"], message: "is needed with subnetIds" });
    }
    if (config.vpcId !== undefined && (config.subnetIds ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["subnetIds"],
        message: "is needed with vpcId: list the private subnets the functions run in",
      });
    }
    if (config.securityGroupId !== undefined && config.vpcId === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["vpcId"],
        message: "is needed with securityGroupId",
      });
    }
    if ((config.domainName === undefined) !== (config.certificateArn === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [config.domainName === undefined ? "domainName" : "certificateArn"],
        message: "is needed with the other: give domainName and certificateArn together",
      });
    }
    if (config.managedTagValue !== undefined && config.managedTagKey === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["managedTagKey"],
        message: "is needed with managedTagValue",
      });
    }
  });

/** The settings as given (every field optional where a default exists). */
export type KeyhealConfigInput = z.input<typeof configSchema>;
/** The settings after validation and defaults. */
export type KeyhealConfig = z.output<typeof configSchema>;

/** Settings that do not validate; the message names each context key and what to do. */
export class InvalidConfigError extends Error {
  readonly issues: string[];

  constructor(issues: string[]) {
    super(
      `Invalid keyheal settings:\n${issues.map((issue) => `  - ${issue}`).join("\n")}\n` +
        `Fix them in cdk.json ("context": { "${CONTEXT_KEY}": { … } }) or with -c ${CONTEXT_KEY}:<name>=<value>.`,
    );
    this.name = "InvalidConfigError";
    this.issues = issues;
  }
}

/** Validates settings, naming every wrong or missing one as its context key. */
export function parseConfig(input: unknown): KeyhealConfig {
  const parsed = configSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new InvalidConfigError(
    parsed.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? `${CONTEXT_KEY}:${issue.path.join(".")}` : CONTEXT_KEY;
      if (issue.code === "unrecognized_keys") {
        return `${key}: unknown setting(s) ${issue.keys.join(", ")}; known: ${Object.keys(configSchema.shape).join(", ")}`;
      }
      return `${key} ${issue.message}`;
    }),
  );
}

/**
 * Gathers the settings from context: the `keyheal` object of cdk.json, overridden key by key by
 * `-c keyheal:<name>=<value>` on the command line.
 */
export function configFromContext(tryGetContext: (key: string) => unknown): KeyhealConfig {
  const base = tryGetContext(CONTEXT_KEY);
  if (base !== undefined && (typeof base !== "object" || base === null || Array.isArray(base))) {
    throw new InvalidConfigError([`${CONTEXT_KEY} must be an object of settings`]);
  }
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown> | undefined) };
  for (const name of Object.keys(configSchema.shape)) {
    const override = tryGetContext(`${CONTEXT_KEY}:${name}`);
    if (override !== undefined) merged[name] = override;
  }
  return parseConfig(merged);
}
