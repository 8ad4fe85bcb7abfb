/**
 * Storage adapters: DynamoDB implementations of the device, failure, key and run stores, and the
 * secret stores (files in local mode, Secrets Manager in AWS). Clients are always passed in.
 * The embedded engine for local mode is in `./embedded.ts` (not re-exported, so Lambda bundles
 * stay free of it).
 *
 * @module
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SecretStore } from "../keys/store-types.ts";
import { DynamoDeviceStore } from "./dynamo-device-store.ts";
import { DynamoFailureStore } from "./dynamo-failure-store.ts";
import { DynamoKeyStore } from "./dynamo-key-store.ts";
import { DynamoRunStore } from "./dynamo-run-store.ts";
import type { Clock } from "./dynamo-util.ts";
import type { TableNames } from "./tables.ts";

export { DynamoDeviceStore, type DynamoDeviceStoreOptions } from "./dynamo-device-store.ts";
export {
  DEFAULT_FAILURE_TTL_SECONDS,
  DynamoFailureStore,
  type DynamoFailureStoreOptions,
} from "./dynamo-failure-store.ts";
export { DynamoJobStore, type DynamoJobStoreOptions } from "./dynamo-job-store.ts";
export { DynamoKeyStore, type DynamoKeyStoreOptions } from "./dynamo-key-store.ts";
export {
  DEFAULT_RUN_TTL_SECONDS,
  DynamoRunStore,
  type DynamoRunStoreOptions,
} from "./dynamo-run-store.ts";
export { type Clock, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./dynamo-util.ts";
export {
  CurrentKeyRetireError,
  InvalidArgumentError,
  InvalidCursorError,
  InvalidSecretNameError,
  KeyGenerationConflictError,
  KeyMaterialMismatchError,
  NotFoundError,
  RunStateError,
  SecretExpiredError,
  SecretNotFoundError,
  StoreError,
} from "./errors.ts";
export { FileSecretStore, type FileSecretStoreOptions } from "./file-secret-store.ts";
export {
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  type RunStep,
  type RunStore,
  STEP_STATUSES,
  type StepStatus,
} from "./runs.ts";
export { assertSecretName, EXPIRES_AT_TAG } from "./secret-names.ts";
export {
  SecretsManagerSecretStore,
  type SecretsManagerSecretStoreOptions,
} from "./secrets-manager-store.ts";
export {
  createTableInput,
  createTables,
  FAILURE_KIND,
  type IndexDesign,
  KEY_KIND,
  type KeyAttribute,
  keyAttributesOf,
  TABLES,
  type TableDesign,
  type TableKind,
  type TableNames,
  tableNames,
} from "./tables.ts";

export interface DynamoStores {
  devices: DynamoDeviceStore;
  failures: DynamoFailureStore;
  keys: DynamoKeyStore;
  runs: DynamoRunStore;
}

const DAY_SECONDS = 24 * 60 * 60;

/** All four DynamoDB stores of the workflows over one document client (jobs are the API's). */
export function createDynamoStores(options: {
  client: DynamoDBDocumentClient;
  tables: Omit<TableNames, "jobs">;
  /** Where the key store puts private keys. */
  secrets: SecretStore;
  /** Failure record time to live; default 90. */
  failureTtlDays?: number;
  /** Run history time to live; default 90. */
  runTtlDays?: number;
  clock?: Clock;
}): DynamoStores {
  const { client, tables, secrets, failureTtlDays, runTtlDays, clock } = options;
  const common = { client, ...(clock ? { clock } : {}) };
  return {
    devices: new DynamoDeviceStore({ ...common, tableName: tables.devices }),
    failures: new DynamoFailureStore({
      ...common,
      tableName: tables.failures,
      ...(failureTtlDays === undefined ? {} : { ttlSeconds: failureTtlDays * DAY_SECONDS }),
    }),
    keys: new DynamoKeyStore({ ...common, tableName: tables.keys, secrets }),
    runs: new DynamoRunStore({
      ...common,
      tableName: tables.runs,
      ...(runTtlDays === undefined ? {} : { ttlSeconds: runTtlDays * DAY_SECONDS }),
    }),
  };
}
