import { createHash } from "node:crypto";
import type { RemoteShell } from "../ssh/remote-shell.ts";
import { MAX_OUTPUT_BYTES } from "../ssh/types.ts";
import {
  AuthorizedKeysTooLargeError,
  ConcurrentModificationError,
  RemoteStepError,
  UnsafePathError,
  UserCreateFailedError,
  WriteFailedError,
} from "./errors.ts";
import { EXIT, type StepName, stepCommand } from "./remote-scripts.ts";

/** Where the steps work: one shell, the file's path segments and whose file it is. */
export interface RemoteContext {
  shell: RemoteShell;
  /** The path as given (for messages). */
  path: string;
  /** The path as segments for the device (authorized-keys-path.ts). */
  segments: string[];
  /** The user whose file it is, when the shell is not that user's own (root or sudo). */
  owner?: string;
}

/** The bytes of authorized_keys as read, and the hash compare-and-swap checks before rename. */
export interface Snapshot {
  content: Buffer;
  /** Hex SHA-256 of the content, or "absent" when there was no file. */
  hash: string;
  existed: boolean;
}

export function hashOf(content: Buffer | undefined): string {
  return content === undefined ? "absent" : createHash("sha256").update(content).digest("hex");
}

function step(ctx: RemoteContext, name: StepName, args: string[], input?: Buffer) {
  return ctx.shell.run(stepCommand(name, args), {
    what: name.slice(3),
    ...(input === undefined ? {} : { input }),
  });
}

function decode(ctx: RemoteContext, code: number, stderr: Buffer): never {
  const detail = stderr.toString("utf8").trim().slice(0, 500);
  switch (code) {
    case EXIT.SYMLINK:
    case EXIT.NOT_REGULAR:
      throw new UnsafePathError(ctx.path, detail);
    case EXIT.CHANGED:
      throw new ConcurrentModificationError(ctx.path, detail);
    case EXIT.TOO_LARGE:
      throw new AuthorizedKeysTooLargeError(ctx.path, detail);
    case EXIT.WRITE_FAILED:
    case EXIT.RENAME_FAILED:
    case EXIT.NO_HASH_TOOL:
    case EXIT.NO_HOME:
    case EXIT.NO_DROP:
      throw new WriteFailedError(ctx.path, detail);
    default:
      throw new RemoteStepError(`Remote step on ${ctx.path} exited with ${code}.`, detail);
  }
}

/** Reads authorized_keys over the shell; refuses symlinks, non-regular and oversized files. */
export async function readAuthorizedKeys(ctx: RemoteContext): Promise<Snapshot> {
  const result = await step(ctx, "kh_read", [
    ctx.owner ?? "",
    String(MAX_OUTPUT_BYTES),
    ...ctx.segments,
  ]);
  if (result.code === EXIT.ABSENT) {
    return { content: Buffer.alloc(0), hash: hashOf(undefined), existed: false };
  }
  if (result.code !== EXIT.OK) decode(ctx, result.code, result.stderr);
  return { content: result.stdout, hash: hashOf(result.stdout), existed: true };
}

/**
 * Writes `content` over authorized_keys in one step, if the file still has `expectedHash`: a temp
 * file beside it (the user's, 0600, fsynced; a root-owned file keeps its owner and mode), a
 * backup, then rename. Anything else leaves the file as it was.
 */
export async function swapAuthorizedKeys(
  ctx: RemoteContext,
  content: Buffer,
  expectedHash: string,
): Promise<void> {
  const result = await step(
    ctx,
    "kh_write",
    [ctx.owner ?? "", expectedHash, ...ctx.segments],
    content,
  );
  if (result.code !== EXIT.OK) decode(ctx, result.code, result.stderr);
}

/** Creates the user when missing (the shell must be root). Returns true when it was created. */
export async function ensureUser(shell: RemoteShell, username: string): Promise<boolean> {
  const result = await shell.run(stepCommand("kh_ensure_user", [username]), { what: "user" });
  if (result.code !== EXIT.OK) {
    throw new UserCreateFailedError(username, result.stderr.toString("utf8").trim().slice(0, 500));
  }
  return result.stdout.toString("utf8").trim() === "created";
}
