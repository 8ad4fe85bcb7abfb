import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Ec2Inventory } from "../cloud/ec2-inventory.ts";
import { createDynamoStores } from "../store/index.ts";
import { SecretsManagerSecretStore } from "../store/secrets-manager-store.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import type { ParsedTaskEnvironment } from "./env.ts";
import { logger, metrics } from "./powertools.ts";

/** The AWS adapters behind the ports, built once per Lambda container from its environment. */
export function buildAwsDeps(env: ParsedTaskEnvironment): WorkflowDeps {
  const dynamo = new DynamoDBClient(
    env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {},
  );
  const client = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
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
  return {
    ...stores,
    secrets,
    cloud: new Ec2Inventory({ client: new EC2Client({}) }),
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
