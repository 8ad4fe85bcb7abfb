import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { CloudInventory } from "../cloud/types.ts";
import type { DeviceStore } from "../devices/types.ts";
import type { FailureStore } from "../failures/types.ts";
import type { KeyStore, SecretStore } from "../keys/store-types.ts";
import type { SshTimeouts } from "../ssh/session.ts";
import type { ManifestStore } from "./manifests.ts";

/**
 * Everything a workflow task needs, assembled once per runtime: by the Lambda bundle from its
 * validated environment on AWS, by the local runtime from its data directory.
 */
export interface WorkflowDeps {
  devices: DeviceStore;
  failures: FailureStore;
  keys: KeyStore;
  secrets: SecretStore;
  /** Rotation manifests (S3 on AWS); only the fleet listing needs them. */
  manifests?: ManifestStore | undefined;
  /** EC2 checks for devices that are instances; absent in local mode without AWS. */
  cloud?: CloudInventory | undefined;
  /** keyheal's own source, for the security-group check. */
  sshSource: { securityGroupId?: string | undefined; cidr?: string | undefined };
  sshTimeouts: Partial<SshTimeouts>;
  leaseTtlMs: number;
  logger: Logger;
  metrics: Metrics;
  now(): Date;
}
