import { createHash } from "node:crypto";
import type { SshSession } from "../ssh/session.ts";
import {
  ConcurrentModificationError,
  RemoteStepError,
  UnsafePathError,
  UserCreateFailedError,
  WriteFailedError,
} from "./errors.ts";
import { EXIT, type Privilege, type ScriptName, scriptCommand } from "./remote-scripts.ts";

/** How remote steps run on one session: as the user itself, or as root on the user's behalf. */
export interface RemoteContext {
  session: SshSession;
  /** authorized_keys path, relative to the user's home or absolute. */
  path: string;
  privilege: Privilege;
  /** The user whose file it is, when the session is logged in as someone else. */
  owner?: string;
  /** For sudo: sent as the first line of stdin, never in argv. */
  sudoPassword?: string;
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

async function run(ctx: RemoteContext, name: ScriptName, args: string[], stdin?: Buffer) {
  const prefix =
    ctx.privilege === "sudo" ? Buffer.from(`${ctx.sudoPassword ?? ""}\n`) : Buffer.alloc(0);
  return ctx.session.exec(scriptCommand(name, args, ctx.privilege), {
    stdin: Buffer.concat([prefix, stdin ?? Buffer.alloc(0)]),
    what: name.toLowerCase(),
  });
}

function decode(ctx: RemoteContext, code: number, stderr: Buffer): never {
  const detail = stderr.toString("utf8").trim().slice(0, 500);
  switch (code) {
    case EXIT.SYMLINK:
    case EXIT.NOT_REGULAR:
    case EXIT.BAD_TEMP:
      throw new UnsafePathError(ctx.path, detail);
    case EXIT.CHANGED:
      throw new ConcurrentModificationError(ctx.path, detail);
    case EXIT.WRITE_FAILED:
    case EXIT.RENAME_FAILED:
    case EXIT.NO_HASH_TOOL:
    case EXIT.NO_HOME:
      throw new WriteFailedError(ctx.path, detail);
    default:
      throw new RemoteStepError(`Remote step on ${ctx.path} exited with ${code}.`, detail);
  }
}

function args(ctx: RemoteContext, ...more: string[]): string[] {
  return [ctx.path, ctx.owner ?? "", ...more];
}

/** Reads authorized_keys over the session; refuses symlinks and non-regular files. */
export async function readAuthorizedKeys(ctx: RemoteContext): Promise<Snapshot> {
  const result = await run(ctx, "READ", args(ctx));
  if (result.code === EXIT.ABSENT) {
    return { content: Buffer.alloc(0), hash: hashOf(undefined), existed: false };
  }
  if (result.code !== EXIT.OK) decode(ctx, result.code, result.stderr);
  return { content: result.stdout, hash: hashOf(result.stdout), existed: true };
}

/** Writes a temp file beside authorized_keys; returns its path. First half of the swap. */
export async function stageAuthorizedKeys(ctx: RemoteContext, content: Buffer): Promise<string> {
  const result = await run(ctx, "STAGE", args(ctx), content);
  if (result.code !== EXIT.OK) decode(ctx, result.code, result.stderr);
  const tempPath = result.stdout.toString("utf8").trim();
  if (!tempPath) throw new WriteFailedError(ctx.path, "the staging step printed no temp path");
  return tempPath;
}

/** Renames the staged file over authorized_keys if it still has `expectedHash`. */
export async function commitAuthorizedKeys(
  ctx: RemoteContext,
  tempPath: string,
  expectedHash: string,
): Promise<void> {
  const result = await run(ctx, "COMMIT", args(ctx, tempPath, expectedHash));
  if (result.code !== EXIT.OK) decode(ctx, result.code, result.stderr);
}

/** Creates the user when missing (needs root or sudo). Returns true when it was created. */
export async function ensureUser(ctx: RemoteContext, username: string): Promise<boolean> {
  const result = await run(ctx, "ENSURE_USER", [username]);
  if (result.code !== EXIT.OK) {
    throw new UserCreateFailedError(username, result.stderr.toString("utf8").trim().slice(0, 500));
  }
  return result.stdout.toString("utf8").trim() === "created";
}

/** The uid of the logged-in user, to decide whether steps for another user need sudo. */
export async function remoteUid(session: SshSession): Promise<number> {
  const result = await session.exec("id -u", { what: "id" });
  const uid = Number.parseInt(result.stdout.toString("utf8").trim(), 10);
  if (result.code !== 0 || Number.isNaN(uid)) {
    throw new RemoteStepError("Could not learn the remote user id.", result.stderr.toString());
  }
  return uid;
}
