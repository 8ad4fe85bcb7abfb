import { AuthorizedKeysError } from "../authorized-keys/errors.ts";
import type { Cause } from "../failures/causes.ts";
import {
  DsaKeyRefusedError,
  KeyError,
  RsaKeyTooShortError,
  UnsupportedKeyTypeError,
} from "../keys/errors.ts";
import {
  AuthRejectedError,
  CommandTimeoutError,
  ConnectFailedError,
  ConnectionLostError,
  ConnectTimeoutError,
  DeadlineExceededError,
  HandshakeFailedError,
  HandshakeTimeoutError,
  HostKeyMismatchError,
  HostKeyNotPinnedError,
  OutputTooLargeError,
  RemoteProtocolError,
  type Stage,
  SudoFailedError,
} from "../ssh/errors.ts";
import {
  AuthorizedKeysPathError,
  AuthorizedKeysTooLargeError,
  ConcurrentModificationError,
  InvalidUsernameError,
  UnsafePathError,
  UserCreateFailedError,
  VerificationFailedError,
  WriteFailedError,
} from "./errors.ts";

const UNREACHABLE_CODES = new Set([
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETDOWN",
]);

/**
 * The failure cause of an error raised at a stage of a device conversation. Pure: decided by the
 * error's class and its typed fields, never by message text.
 */
export function classify(error: unknown, stage: Stage): Cause {
  if (error instanceof HostKeyMismatchError) return "HOST_KEY_MISMATCH";
  if (error instanceof HostKeyNotPinnedError) return "HOST_KEY_NOT_PINNED";
  if (error instanceof AuthRejectedError) {
    // Refused on the fresh connection right after the write: the key is there, sshd won't use it.
    return stage === "verify" ? "SSH_CONFIG_MODIFIED" : "AUTH_REJECTED";
  }
  if (error instanceof VerificationFailedError) return "SSH_CONFIG_MODIFIED";
  if (error instanceof OutputTooLargeError || error instanceof AuthorizedKeysTooLargeError) {
    return "OUTPUT_TOO_LARGE";
  }
  if (error instanceof RemoteProtocolError) return "REMOTE_PROTOCOL";
  if (error instanceof SudoFailedError) return "SUDO_FAILED";
  if (error instanceof AuthorizedKeysPathError) return "AUTHORIZED_KEYS_PATH_INVALID";
  if (error instanceof ConnectTimeoutError) return "CONNECTION_TIMEOUT";
  if (
    error instanceof HandshakeTimeoutError ||
    error instanceof CommandTimeoutError ||
    error instanceof DeadlineExceededError
  ) {
    return "TIMEOUT";
  }
  if (error instanceof ConnectFailedError) {
    if (error.code === "ECONNREFUSED" || error.code === "ECONNRESET") return "CONNECTION_REFUSED";
    if (error.code === "ETIMEDOUT") return "CONNECTION_TIMEOUT";
    if (error.code && UNREACHABLE_CODES.has(error.code)) return "NETWORK_UNREACHABLE";
    return "NETWORK_UNREACHABLE";
  }
  if (error instanceof ConnectionLostError) {
    // Dropped before authentication completed: sshd closed on us (MaxStartups, AllowUsers, wrappers).
    return stage === "connect" || stage === "handshake" ? "CONNECTION_REFUSED" : "CONNECTION_LOST";
  }
  if (error instanceof HandshakeFailedError) return "SSH_CONFIG_MODIFIED";
  if (error instanceof UnsafePathError || error instanceof WriteFailedError) return "WRITE_FAILED";
  if (error instanceof ConcurrentModificationError) return "CONCURRENT_MODIFICATION";
  if (error instanceof UserCreateFailedError || error instanceof InvalidUsernameError) {
    return "USER_CREATE_FAILED";
  }
  if (error instanceof AuthorizedKeysError) return "AUTHORIZED_KEYS_UNPARSEABLE";
  if (
    error instanceof DsaKeyRefusedError ||
    error instanceof RsaKeyTooShortError ||
    error instanceof UnsupportedKeyTypeError
  ) {
    return "UNSUPPORTED_KEY_TYPE";
  }
  if (error instanceof KeyError) return "INVALID_PRIVATE_KEY";
  return "INTERNAL";
}
