import { OperationFailedError } from "../failures/errors.ts";
import { openSession } from "../ssh/connect.ts";
import { AuthRejectedError, HostKeyMismatchError, type Stage } from "../ssh/errors.ts";
import type { SshSession } from "../ssh/session.ts";
import type { SessionTarget, SshTimeouts } from "../ssh/types.ts";
import { classify } from "./classify.ts";
import { type Generation, generationCredentials } from "./connect.ts";
import { VerificationFailedError } from "./errors.ts";
import { hashOf, type RemoteContext, type Snapshot, swapAuthorizedKeys } from "./remote.ts";

/** What a verifying login may take: its timeouts and the run's overall deadline. */
export interface LoginOptions {
  timeouts?: Partial<SshTimeouts> | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Logs in on a fresh connection with the new key. When the device refuses
 * the key, the bytes from before the write are restored over the still-open first shell.
 * A verification that fails for any other reason (timeout, lost connection) leaves the file as
 * it is: it holds the previous keys as well, so nobody is locked out and the next run converges.
 */
export async function verifyOrRollBack(v: {
  ctx: RemoteContext;
  target: SessionTarget;
  newest: Generation;
  before: Snapshot;
  /** The bytes written, when this run wrote any. */
  written: Buffer | undefined;
  options: LoginOptions;
  at: <T>(stage: Stage, fn: () => Promise<T>) => Promise<T>;
}): Promise<void> {
  try {
    await proveLogin(v.target, v.newest, v.options);
  } catch (error) {
    // Refused: sshd will not use the key. Another host key: the change cannot be proven on the
    // host it was made on. Either way the write is undone; other failures leave both keys.
    const refused = error instanceof AuthRejectedError;
    const otherHost = error instanceof HostKeyMismatchError;
    if (!(refused || otherHost) || v.written === undefined) {
      throw new OperationFailedError(classify(error, "verify"), "verify", "VERIFY", {
        cause: error,
      });
    }
    const written = v.written;
    let rolledBack = false;
    try {
      await v.at("rollback", () =>
        swapAuthorizedKeys(
          v.ctx,
          v.before.content,
          { hash: hashOf(written), mode: v.before.mode },
          false,
        ),
      );
      rolledBack = true;
    } catch {
      // The file keeps both keys; the cause below says the rollback did not happen.
    }
    if (otherHost) {
      throw new OperationFailedError("HOST_KEY_MISMATCH", "verify", "VERIFY", { cause: error });
    }
    throw new OperationFailedError("SSH_CONFIG_MODIFIED", "verify", "VERIFY", {
      cause: new VerificationFailedError(v.target.host, rolledBack, { cause: error }),
    });
  }
}

/**
 * A fresh connection with only the given key: sshd's USERAUTH_SUCCESS, on a connection whose
 * host key is the pinned one, is the proof that the device accepts the key. No command is run:
 * the first connection's shell has already shown that a login of this user can run one.
 */
async function proveLogin(
  target: SessionTarget,
  generation: Generation,
  options: LoginOptions,
): Promise<void> {
  const session: SshSession = await openSession({
    ...target,
    credentials: generationCredentials([generation]),
    timeouts: options.timeouts,
    signal: options.signal,
  });
  session.close();
}
