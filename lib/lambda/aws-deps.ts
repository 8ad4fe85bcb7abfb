import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CloudInventory } from "../cloud/types.ts";
import { createDynamoStores, type DynamoStores } from "../store/index.ts";
import { SecretsManagerSecretStore } from "../store/secrets-manager-store.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import { awsDocumentClient } from "./dynamo-client.ts";
import type { ParsedTaskEnvironment } from "./env.ts";
import { logger, metrics } from "./powertools.ts";

/** What the task and API functions share of their environment: tables and secrets. */
export type StoreEnvironment = Pick<
  ParsedTaskEnvironment,
  | "DEVICES_TABLE"
  | "FAILURES_TABLE"
  | "KEYS_TABLE"
  | "RUNS_TABLE"
  | "SECRET_PREFIX"
  | "SECRETS_KMS_KEY_ID"
  | "FAILURE_TTL_DAYS"
  | "DYNAMODB_ENDPOINT"
>;

/** The DynamoDB stores and the Secrets Manager secret store, with the container's clients. */
export function buildAwsStores(env: StoreEnvironment): DynamoStores & {
  client: DynamoDBDocumentClient;
  secrets: SecretsManagerSecretStore;
} {
  const client = awsDocumentClient(env.DYNAMODB_ENDPOINT);
  const secrets = new SecretsManagerSecretStore({
    client: new SecretsManagerClient({}),
    prefix: env.SECRET_PREFIX,
    ...(env.SECRETS_KMS_KEY_ID ? { kmsKeyId: env.SECRETS_KMS_KEY_ID } : {}),
  });
  const stores = createDynamoStores({
    client,
    tables: {
      devices: env.DEVICES_TABLE,
      failures: env.FAILURES_TABLE,
      keys: env.KEYS_TABLE,
      runs: env.RUNS_TABLE,
    },
    secrets,
    failureTtlDays: env.FAILURE_TTL_DAYS,
  });
  return { ...stores, client, secrets };
}

/**
 * The AWS adapters behind the ports, built once per Lambda container from its environment.
 * `cloud` (EC2) only for the functions that check instances.
 */
export function buildAwsDeps(env: ParsedTaskEnvironment, cloud?: CloudInventory): WorkflowDeps {
  const { devices, failures, keys, secrets } = buildAwsStores(env);
  return {
    devices,
    failures,
    keys,
    secrets,
    cloud,
    sshSource: { securityGroupId: env.SSH_SOURCE_SECURITY_GROUP_ID, cidr: env.SSH_SOURCE_CIDR },
    sshTimeouts: {
      connectMs: env.SSH_CONNECT_TIMEOUT_MS,
      handshakeMs: env.SSH_HANDSHAKE_TIMEOUT_MS,
      commandMs: env.SSH_COMMAND_TIMEOUT_MS,
    },
    leaseTtlMs: env.LEASE_TTL_MS,
    logger,
    metrics,
    now: () => new Date(),
  };
}
