import { join } from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { logger, metrics } from "../lambda/powertools.ts";
import type { SshTimeouts } from "../ssh/session.ts";
import { createDynamoStores, FileSecretStore, type TableNames } from "../store/index.ts";
import type { RunStore } from "../store/runs.ts";
import type { WorkflowDeps } from "../workflows/deps.ts";
import { MemoryManifestStore } from "../workflows/manifests.ts";

export interface LocalDepsOptions {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  /** Private keys and operator secrets live in `<dataDir>/secrets`, files with mode 0600. */
  dataDir: string;
  sshTimeouts?: Partial<SshTimeouts>;
  leaseTtlMs?: number;
}

/** The same domain as on AWS, over the embedded store and the file secret store. */
export function createLocalDeps(options: LocalDepsOptions): {
  deps: WorkflowDeps;
  runs: RunStore;
  secrets: FileSecretStore;
} {
  const secrets = new FileSecretStore({ directory: join(options.dataDir, "secrets") });
  const stores = createDynamoStores({ client: options.client, tables: options.tables, secrets });
  return {
    runs: stores.runs,
    secrets,
    deps: {
      devices: stores.devices,
      failures: stores.failures,
      keys: stores.keys,
      secrets,
      manifests: new MemoryManifestStore(),
      sshSource: {},
      sshTimeouts: options.sshTimeouts ?? {},
      leaseTtlMs: options.leaseTtlMs ?? 15 * 60_000,
      logger,
      metrics,
      now: () => new Date(),
    },
  };
}
