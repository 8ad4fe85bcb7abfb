/**
 * Pure, byte-exact editing of OpenSSH authorized_keys files: bytes in, bytes out, no I/O.
 *
 * @packageDocumentation
 */
export {
  type EditResult,
  editAuthorizedKeys,
  findKeys,
  type KeyChange,
  type KeyRef,
} from "./edit.ts";
export {
  AuthorizedKeysError,
  AuthorizedKeysTooLargeError,
  ConflictingKeyChangeError,
  InvalidKeyRefError,
  UnparseableLineError,
} from "./errors.ts";
export type { KeyOption } from "./options.ts";
export {
  type AuthorizedKeysLine,
  MAX_FILE_BYTES,
  MAX_LINE_BYTES,
  type ParsedKeyLine,
  type ParsedLine,
  parseAuthorizedKeys,
  parseAuthorizedKeysLine,
  type UnparseableReason,
} from "./parse.ts";
