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
  /** The file's permission bits as read (`ls -l`); undefined when it was absent. */
  mode?: number | undefined;
}

/** Permission bits of an `ls -l` mode field (`-rw-r--r--`, perhaps with `.` or `+` after). */
export function permissionBits(field: string): number | undefined {
  const match = /^-([r-][w-][xsS-])([r-][w-][xsS-])([r-][w-][xtT-])/.exec(field);
  if (!match) return undefined;
  let bits = 0;
  for (const triple of match.slice(1)) {
    bits = (bits << 3) | (triple[0] === "r" ? 4 : 0) | (triple[1] === "w" ? 2 : 0);
    bits |= /[xst]/.test(triple[2] ?? "") ? 1 : 0;
  }
  return bits;
}

/**
 * The umask a new file is made under to get `mode`'s read and write bits: a file the user's
 * own shell makes (no `chmod`, no copy). Without a mode, 0600.
 */
export function umaskFor(mode: number | undefined): string {
  const bits = mode === undefined ? 0o600 : mode & 0o666;
  return (0o777 & ~bits).toString(8).padStart(3, "0");
}

export function hashOf(content: Buffer | undefined): string {
  return content === undefined ? "absent" : createHash("sha256").update(content).digest("hex");
}

/** One library step, run in the shell itself (no subshell: the library only ever `return`s). */
function step(ctx: RemoteContext, name: StepName, args: string[], input?: Buffer) {
  return ctx.shell.run(stepCommand(name, args), {
    what: name.slice(3),
    isolated: false,
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
  // The first line is the file's mode (`ls -l`), the rest its bytes.
  const eol = result.stdout.indexOf(0x0a);
  if (eol < 0) throw new RemoteStepError(`Reading ${ctx.path} gave no mode line.`, "");
  const content = result.stdout.subarray(eol + 1);
  const mode = permissionBits(result.stdout.subarray(0, eol).toString("latin1"));
  return { content, hash: hashOf(content), existed: true, mode };
}

/**
 * Writes `content` over authorized_keys in one step, if the file still has `expectedHash`: a temp
 * file beside it (the user's, with the mode the file had, else 0600; a root-owned file keeps its
 * owner and mode), fsynced, a backup of the file replaced when `backup` is set, then rename.
 * Anything else leaves the file as it was.
 */
export async function swapAuthorizedKeys(
  ctx: RemoteContext,
  content: Buffer,
  expected: Pick<Snapshot, "hash" | "mode">,
  backup: boolean,
): Promise<void> {
  const result = await step(
    ctx,
    "kh_write",
    [ctx.owner ?? "", expected.hash, umaskFor(expected.mode), backup ? "1" : "0", ...ctx.segments],
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
