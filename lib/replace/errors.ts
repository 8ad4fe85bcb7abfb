/** Base class of failures of the remote steps that read and write authorized_keys. */
export class RemoteStepError extends Error {
  /** What the device printed on stderr (never contains secrets: keyheal sends none in argv). */
  readonly detail: string;
  constructor(message: string, detail: string, options?: ErrorOptions) {
    super(detail ? `${message} (${detail})` : message, options);
    this.name = "RemoteStepError";
    this.detail = detail;
  }
}

/** A symlinked ~/.ssh or authorized_keys, or a path that is not a regular file. */
export class UnsafePathError extends RemoteStepError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(
      `Refusing to write ${path}: it or its directory is a symlink or not a regular file. Replace it with a regular file owned by the user, then retry.`,
      detail,
    );
    this.name = "UnsafePathError";
    this.path = path;
  }
}

/** Read-only or full file system, immutable file, permission denied. Nothing was changed. */
export class WriteFailedError extends RemoteStepError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(
      `Could not write ${path}; it is unchanged. Check for a read-only or full file system or an immutable file (lsattr).`,
      detail,
    );
    this.name = "WriteFailedError";
    this.path = path;
  }
}

/** The file changed between read and rename: compare-and-swap refused to overwrite it. */
export class ConcurrentModificationError extends RemoteStepError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`${path} changed while keyheal was editing it; nothing was overwritten. Retry.`, detail);
    this.name = "ConcurrentModificationError";
    this.path = path;
  }
}

export class UserCreateFailedError extends RemoteStepError {
  readonly username: string;
  constructor(username: string, detail: string) {
    super(
      `Could not create user ${username}: log in as root or as a user that may sudo, or create the user by hand.`,
      detail,
    );
    this.name = "UserCreateFailedError";
    this.username = username;
  }
}

/** The fresh connection with the new key was refused; the change has been rolled back. */
export class VerificationFailedError extends Error {
  readonly rolledBack: boolean;
  constructor(host: string, rolledBack: boolean, options?: ErrorOptions) {
    super(
      `${host} refused the new key after it was written (sshd configuration or StrictModes permissions); ${rolledBack ? "the change was rolled back" : "ROLLBACK FAILED: the file holds both keys"}.`,
      options,
    );
    this.name = "VerificationFailedError";
    this.rolledBack = rolledBack;
  }
}

export class InvalidUsernameError extends Error {
  readonly username: string;
  constructor(username: string) {
    super(
      `"${username}" is not a valid POSIX user name: use lower-case letters, digits, "_" or "-", starting with a letter or "_", at most 32 characters.`,
    );
    this.name = "InvalidUsernameError";
    this.username = username;
  }
}

/** An authorizedKeysPath sshd would expand differently from what it says. */
export class AuthorizedKeysPathError extends Error {
  readonly path: string;
  constructor(path: string, why: string) {
    super(
      `authorizedKeysPath "${path}" is refused: ${why}. Give the path as sshd_config's AuthorizedKeysFile does (relative to the home, or with %h, %u, %U, %% or a leading ~/).`,
    );
    this.name = "AuthorizedKeysPathError";
    this.path = path;
  }
}

/** The device printed a size beyond what keyheal reads for authorized_keys. */
export class AuthorizedKeysTooLargeError extends RemoteStepError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(
      `${path} is larger than keyheal reads (1 MiB); nothing was changed. Remove unused lines by hand, then retry.`,
      detail,
    );
    this.name = "AuthorizedKeysTooLargeError";
    this.path = path;
  }
}
