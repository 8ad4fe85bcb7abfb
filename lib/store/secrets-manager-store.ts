import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  PutSecretValueCommand,
  paginateListSecrets,
  type SecretsManagerClient,
  type Tag,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import type { SecretStore } from "../keys/store-types.ts";
import type { Clock } from "./dynamo-util.ts";
import {
  InvalidArgumentError,
  SecretExpiredError,
  SecretNotFoundError,
  StoreError,
} from "./errors.ts";
import { assertSecretName, EXPIRES_AT_TAG, expiryOf } from "./secret-names.ts";

export interface SecretsManagerSecretStoreOptions {
  client: SecretsManagerClient;
  /**
   * Prepended to every name as is (e.g. `keyheal/`), so one IAM statement on
   * `secret:keyheal/*` covers every secret keyheal creates. Default none.
   */
  prefix?: string;
  /** Customer-managed KMS key for new secrets; the account's `aws/secretsmanager` key otherwise. */
  kmsKeyId?: string;
  /** Tags for every secret created (e.g. `{ app: "keyheal" }`), for IAM conditions and billing. */
  tags?: Record<string, string>;
  /** Recovery window when a lasting secret (a retired platform key) is deleted; 7..30, default 7. */
  recoveryWindowInDays?: number;
  clock?: Clock;
}

/**
 * {@link SecretStore} over AWS Secrets Manager. References are secret ARNs. Short-lived secrets
 * (operator passwords and custom keys, put with `ttlSeconds`) carry a `keyheal:expiresAt` tag: a
 * read after it deletes the secret and fails, and deleting one skips the recovery window, so an
 * operator credential does not linger for days.
 */
export class SecretsManagerSecretStore implements SecretStore {
  private readonly client: SecretsManagerClient;
  private readonly prefix: string;
  private readonly kmsKeyId: string | undefined;
  private readonly tags: Tag[];
  private readonly recoveryWindowInDays: number;
  private readonly now: Clock;

  constructor(options: SecretsManagerSecretStoreOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? "";
    this.kmsKeyId = options.kmsKeyId;
    this.tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    this.recoveryWindowInDays = options.recoveryWindowInDays ?? 7;
    if (
      !Number.isInteger(this.recoveryWindowInDays) ||
      this.recoveryWindowInDays < 7 ||
      this.recoveryWindowInDays > 30
    ) {
      throw new InvalidArgumentError("recoveryWindowInDays", "must be an integer from 7 to 30");
    }
    this.now = options.clock ?? Date.now;
  }

  /** Creates the secret `<prefix><name>`, or stores a new version of it; returns its ARN. */
  async put(
    shortName: string,
    value: string,
    options: { ttlSeconds?: number } = {},
  ): Promise<string> {
    const name = `${this.prefix}${shortName}`;
    assertSecretName(name);
    const expiresAt = expiryOf(options.ttlSeconds, this.now());
    const expiryTags = expiresAt ? [{ Key: EXPIRES_AT_TAG, Value: expiresAt }] : [];
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: value,
          KmsKeyId: this.kmsKeyId,
          Description: expiresAt
            ? `keyheal short-lived secret, expires ${expiresAt}`
            : "keyheal secret",
          Tags: [...this.tags, ...expiryTags],
        }),
      );
      return arnOf(created.ARN, name);
    } catch (error) {
      if (errorName(error) !== "ResourceExistsException") throw error;
    }
    const updated = await this.client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: value }),
    );
    const arn = arnOf(updated.ARN, name);
    if (expiresAt) {
      await this.client.send(new TagResourceCommand({ SecretId: arn, Tags: expiryTags }));
    } else {
      await this.client.send(
        new UntagResourceCommand({ SecretId: arn, TagKeys: [EXPIRES_AT_TAG] }),
      );
    }
    return arn;
  }

  /**
   * @throws {SecretNotFoundError} no such secret (or it is scheduled for deletion).
   * @throws {SecretExpiredError} a short-lived secret read after its expiry (it is deleted).
   */
  async get(ref: string): Promise<string> {
    const [value, description] = await Promise.all([
      this.client.send(new GetSecretValueCommand({ SecretId: ref })),
      this.client.send(new DescribeSecretCommand({ SecretId: ref })),
    ]).catch((error: unknown) => {
      throw translate(error, ref);
    });
    const expiresAt = expiryTag(description);
    if (expiresAt !== undefined && Date.parse(expiresAt) <= this.now()) {
      await this.forceDelete(ref);
      throw new SecretExpiredError(ref, expiresAt);
    }
    if (value.SecretString === undefined) {
      throw new StoreError(`secret ${ref} holds binary data, not a string`);
    }
    return value.SecretString;
  }

  /**
   * Deletes the secret: short-lived ones at once, lasting ones after the recovery window.
   * Idempotent: a missing secret is not an error.
   */
  async delete(ref: string): Promise<void> {
    let description: DescribeSecretCommandOutput;
    try {
      description = await this.client.send(new DescribeSecretCommand({ SecretId: ref }));
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return;
      throw error;
    }
    if (expiryTag(description) !== undefined) {
      await this.forceDelete(ref);
      return;
    }
    if (description.DeletedDate !== undefined) return;
    await this.client.send(
      new DeleteSecretCommand({ SecretId: ref, RecoveryWindowInDays: this.recoveryWindowInDays }),
    );
  }

  /**
   * Force-deletes every short-lived secret under the prefix whose expiry has passed, whether
   * anyone read it or not; returns how many. The scheduled sweep on AWS runs this
   * (functions/sweep-secrets.ts), so an operator credential a run never forgot (an execution
   * stopped or timed out, a forget that failed) is gone minutes after its expiry.
   */
  async purgeExpired(): Promise<number> {
    let purged = 0;
    const pages = paginateListSecrets(
      { client: this.client, pageSize: 100 },
      {
        Filters: [
          { Key: "tag-key", Values: [EXPIRES_AT_TAG] },
          ...(this.prefix ? [{ Key: "name" as const, Values: [this.prefix] }] : []),
        ],
      },
    );
    for await (const page of pages) {
      for (const secret of page.SecretList ?? []) {
        // The name filter is a prefix match without case: check the prefix exactly.
        if (!secret.ARN || !secret.Name?.startsWith(this.prefix)) continue;
        const expiresAt = secret.Tags?.find((tag) => tag.Key === EXPIRES_AT_TAG)?.Value;
        if (expiresAt === undefined || !(Date.parse(expiresAt) <= this.now())) continue;
        await this.forceDelete(secret.ARN);
        purged++;
      }
    }
    return purged;
  }

  private async forceDelete(ref: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteSecretCommand({ SecretId: ref, ForceDeleteWithoutRecovery: true }),
      );
    } catch (error) {
      if (errorName(error) !== "ResourceNotFoundException") throw error;
    }
  }
}

function expiryTag(description: DescribeSecretCommandOutput): string | undefined {
  return description.Tags?.find((tag) => tag.Key === EXPIRES_AT_TAG)?.Value;
}

function arnOf(arn: string | undefined, name: string): string {
  if (!arn) throw new StoreError(`Secrets Manager returned no ARN for secret ${name}`);
  return arn;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function translate(error: unknown, ref: string): unknown {
  const name = errorName(error);
  // A secret scheduled for deletion answers InvalidRequestException: as good as gone.
  if (name === "ResourceNotFoundException" || name === "InvalidRequestException") {
    return new SecretNotFoundError(ref, { cause: error });
  }
  return error;
}
