/**
 * The names the ops API, the CLI and the console share: auth statuses, operations, causes, run
 * and key statuses (docs/architecture.md, Domain and Contracts). Imports nothing, so the console
 * takes these lists into its bundle without any server code; the answers built from them are in
 * `api.ts` beside this file.
 *
 * @module
 */

/** Characters a device id may hold (1 to 128 of them): safe in keys, file names, logs and URLs. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** A POSIX user name as keyheal accepts it (the same rule the replacement protocol applies). */
export const USERNAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Where a device stands with keyheal. */
export const AUTH_STATUSES = [
  "UNKNOWN",
  "KEY_BASED",
  "KEY_CONFLICT",
  "CUSTOM_KEY_BASED",
  "CREDENTIALS_BASED",
  "HOST_KEY_CONFLICT",
  "UNREACHABLE",
  "RESOLVING",
] as const;
export type AuthStatus = (typeof AUTH_STATUSES)[number];

/** What keyheal was doing when a device failed, recorded on the failure. */
export const OPERATIONS = ["DETECT", "REPLACE", "VERIFY", "ROLLBACK", "ROTATE", "RESOLVE"] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * The failure causes; each one's summary and handling step are in `CAUSES`
 * (lib/failures/causes.ts), which must name every one of these.
 */
export const CAUSE_NAMES = [
  "INVALID_PRIVATE_KEY",
  "UNSUPPORTED_KEY_TYPE",
  "AUTH_REJECTED",
  "HOST_KEY_MISMATCH",
  "HOST_KEY_NOT_PINNED",
  "SECURITY_GROUP_BLOCKS_SSH",
  "CONNECTION_REFUSED",
  "CONNECTION_TIMEOUT",
  "NETWORK_UNREACHABLE",
  "CONNECTION_LOST",
  "INSTANCE_NOT_RUNNING",
  "SSH_CONFIG_MODIFIED",
  "WRITE_FAILED",
  "CONCURRENT_MODIFICATION",
  "AUTHORIZED_KEYS_UNPARSEABLE",
  "OUTPUT_TOO_LARGE",
  "REMOTE_PROTOCOL",
  "SUDO_FAILED",
  "AUTHORIZED_KEYS_PATH_INVALID",
  "USER_CREATE_FAILED",
  "TIMEOUT",
  "INTERNAL",
] as const;
export type Cause = (typeof CAUSE_NAMES)[number];

export const RUN_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A step can also end CAUGHT: it failed and a Catch moved the run on. */
export const STEP_STATUSES = [...RUN_STATUSES, "CAUGHT"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Kinds of platform key a rotation generates (`POST /keys/rotate { type }`). */
export const KEY_TYPES = ["ed25519", "rsa", "ecdsa"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** SSH public key algorithms, as written at the start of an authorized_keys line. */
export const SSH_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
] as const;
export type SshKeyAlgorithm = (typeof SSH_KEY_ALGORITHMS)[number];

/** A generation's place: the current one, older ones still offered, and retired ones. */
export const KEY_STATUSES = ["CURRENT", "PREVIOUS", "RETIRED"] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Operators' actions over many devices. */
export const JOB_KINDS = ["resolve"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Why a valid event started no run. */
export const IGNORE_REASONS = [
  "EC2_STATE_NOT_RUNNING",
  "UNMANAGED_INSTANCE",
  "UNKNOWN_DEVICE",
] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

/** The `error` of an error answer, one per HTTP status the API answers with. */
export const API_ERROR_CODES = [
  "BadRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "MethodNotAllowed",
  "Conflict",
  "PayloadTooLarge",
  "Internal",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
