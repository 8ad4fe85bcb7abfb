export { type Cidr, cidrContains, parseCidr, tryParseCidr } from "./cidr.ts";
export { Ec2Inventory, type Ec2InventoryOptions, toInstanceInfo } from "./ec2-inventory.ts";
export {
  awsErrorCode,
  CloudError,
  Ec2RequestError,
  InvalidCidrError,
  InvalidInstanceIdError,
  InvalidPortError,
  InvalidTimeoutError,
} from "./errors.ts";
export {
  assertPort,
  assertSshSource,
  diagnoseSshAccess,
  hasSshSource,
  ingressAdmits,
  type SecurityGroupIngress,
  type SshDiagnosisInput,
} from "./ingress.ts";
export {
  classifyConnectError,
  type ProbeFailureCause,
  type ProbeResult,
  probeTcp,
} from "./tcp-probe.ts";
export type * from "./types.ts";
