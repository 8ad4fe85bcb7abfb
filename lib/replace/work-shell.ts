import { editAuthorizedKeys } from "../authorized-keys/index.ts";
import { RemoteShell } from "../ssh/remote-shell.ts";
import type { SshSession } from "../ssh/session.ts";
import {
  authorizedKeysPathSegments,
  DEFAULT_AUTHORIZED_KEYS_PATH,
} from "./authorized-keys-path.ts";
import type { Generation } from "./connect.ts";
import { type RemoteContext, readAuthorizedKeys, swapAuthorizedKeys } from "./remote.ts";
import { shellLibrary } from "./remote-scripts.ts";

/**
 * On a connection the device accepted with the current generation: removes the lines of older
 * generations still in authorized_keys (a heal cut between its write and its prune leaves them),
 * by compare-and-swap over one shell. The current key's line is not touched, and sshd has just
 * accepted it, so no further proof is needed. Returns how many lines were removed.
 */
export async function pruneOlderGenerations(
  session: SshSession,
  device: { adminUser: string; authorizedKeysPath?: string | undefined },
  generations: Generation[],
): Promise<number> {
  const [newest, ...older] = generations;
  if (!newest || older.length === 0) return 0;
  const path = device.authorizedKeysPath ?? DEFAULT_AUTHORIZED_KEYS_PATH;
  const segments = authorizedKeysPathSegments(path, device.adminUser);
  const shell = await RemoteShell.open(session, { library: shellLibrary });
  try {
    const ctx: RemoteContext = { shell, path, segments };
    const before = await readAuthorizedKeys(ctx);
    const pruned = editAuthorizedKeys(before.content, {
      present: [newest.key],
      absent: older.map((g) => g.key),
    });
    if (pruned.changed) await swapAuthorizedKeys(ctx, pruned.content, before.hash);
    return pruned.removed;
  } finally {
    shell.close();
  }
}

/**
 * The shell the file steps run in: the login user's own; or, when the login user acts for
 * another user and is not root, a root shell through sudo (the password goes only to sudo's own
 * prompt, see remote-shell.ts).
 */
export async function openWorkShell(
  session: SshSession,
  asAnotherUser: boolean,
  sudoPassword: string | undefined,
): Promise<RemoteShell> {
  const own = await RemoteShell.open(session, { library: shellLibrary });
  if (!asAnotherUser || own.root) return own;
  own.close();
  return RemoteShell.open(session, {
    library: shellLibrary,
    sudo: { password: sudoPassword },
  });
}
