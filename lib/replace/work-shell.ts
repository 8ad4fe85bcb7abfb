import { RemoteShell } from "../ssh/remote-shell.ts";
import type { SshSession } from "../ssh/session.ts";
import { shellLibrary } from "./remote-scripts.ts";

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
