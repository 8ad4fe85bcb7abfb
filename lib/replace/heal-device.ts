import { editAuthorizedKeys } from "../authorized-keys/index.ts";
import { classify } from "../failures/classify.ts";
import { type Operation, OperationFailedError } from "../failures/errors.ts";
import type { KeyPair } from "../keys/types.ts";
import { AuthRejectedError, type Stage } from "../ssh/errors.ts";
import {
  type Credential,
  openSession,
  type SessionTarget,
  type SshSession,
  type SshTimeouts,
} from "../ssh/session.ts";
import { InvalidUsernameError, VerificationFailedError } from "./errors.ts";
import {
  commitAuthorizedKeys,
  ensureUser,
  hashOf,
  type RemoteContext,
  readAuthorizedKeys,
  remoteUid,
  type Snapshot,
  stageAuthorizedKeys,
} from "./remote.ts";

/** One device as the engine sees it. */
export interface DeviceTarget {
  id: string;
  host: string;
  port: number;
  adminUser: string;
  hostKeyFingerprint?: string | undefined;
  /** Relative to the admin user's home, or absolute. Default `.ssh/authorized_keys`. */
  authorizedKeysPath?: string | undefined;
}

/** A platform key generation; generation numbers grow with each rotation. */
export interface Generation {
  generation: number;
  key: KeyPair;
}

/**
 * How keyheal logs in for this run:
 * - `platform`: with the platform key generations it holds (reconnect, rotate);
 * - `password`: the "Space key" resolution — log in by password (as `loginUser`, default the admin
 *   user), create the admin user when missing, install the platform key;
 * - `custom-key`: the operator's own key; install the platform key, or with `adopt` keep the custom
 *   key as the device's credential.
 */
export type Access =
  | { mode: "platform" }
  | { mode: "password"; password: string; loginUser?: string }
  | { mode: "custom-key"; key: KeyPair; adopt?: boolean };

export type ReplaceStep =
  | "connected"
  | "read"
  | "staged"
  | "committed"
  | "verified"
  | "prune-staged"
  | "pruned"
  | "reverified";

export interface HealOptions {
  device: DeviceTarget;
  /** Newest first; `generations[0]` is the current platform key. */
  generations: Generation[];
  access?: Access;
  timeouts?: Partial<SshTimeouts>;
  signal?: AbortSignal;
  /** Observes each step; `kill` cuts the first connection, as a crash would (used by tests). */
  onStep?: (step: ReplaceStep, control: { kill(): void }) => void | Promise<void>;
}

export interface HealResult {
  deviceId: string;
  status: "KEY_BASED" | "CUSTOM_KEY_BASED";
  /** The generation the device accepted on the first connection (null for password/custom key). */
  heldGeneration: number | null;
  /** The generation the device holds now (null when a custom key was adopted). */
  generation: number | null;
  /** Whether authorized_keys was written. */
  changed: boolean;
  prunedLines: number;
  hostKeyFingerprint: string;
  pinnedOnFirstContact: boolean;
  userCreated: boolean;
  /** SSH handshakes this run made: 1 to detect, at most 2 more to heal. */
  handshakes: number;
  steps: ReplaceStep[];
}

/** OpenSSH counts every offered key against MaxAuthTries (default 6). */
const MAX_GENERATIONS_OFFERED = 5;
const DEFAULT_PATH = ".ssh/authorized_keys";
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function operationFor(stage: Stage, access: Access): Operation {
  switch (stage) {
    case "connect":
    case "handshake":
    case "auth":
      return access.mode === "platform" ? "DETECT" : "RESOLVE";
    case "user-create":
      return "RESOLVE";
    case "verify":
      return "VERIFY";
    case "rollback":
      return "ROLLBACK";
    default:
      return "REPLACE";
  }
}

/** Publickey credentials for the newest generations, labelled by fingerprint only. */
export function generationCredentials(generations: Generation[]): Credential[] {
  return generations.slice(0, MAX_GENERATIONS_OFFERED).map(({ generation, key }) => ({
    kind: "publickey",
    label: `generation ${generation} (${key.fingerprint})`,
    fingerprint: key.fingerprint,
    privateKey: key.privateKey,
  }));
}

function customCredential(key: KeyPair): Credential {
  return {
    kind: "publickey",
    label: `custom key (${key.fingerprint})`,
    fingerprint: key.fingerprint,
    privateKey: key.privateKey,
  };
}

/**
 * Heals one device by the safe replacement protocol (DESIGN §4):
 * the first connection detects which key the device holds and stays open; the current
 * generation is added by compare-and-swap; a fresh connection proves it works; only then are
 * older generations removed, and a last fresh connection proves it again. A refused
 * verification is rolled back over the still-open first session. Every interruption leaves
 * either the old keys, or both, or the verified new key: the next run converges.
 */
export async function healDevice(options: HealOptions): Promise<HealResult> {
  const { device, generations } = options;
  const access: Access = options.access ?? { mode: "platform" };
  const current = generations[0];
  const steps: ReplaceStep[] = [];
  let handshakes = 0;

  const at = async <T>(stage: Stage, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof OperationFailedError) throw error;
      throw new OperationFailedError(classify(error, stage), stage, operationFor(stage, access), {
        cause: error,
      });
    }
  };

  const loginUser =
    access.mode === "password" ? (access.loginUser ?? device.adminUser) : device.adminUser;
  for (const name of new Set([device.adminUser, loginUser])) {
    if (!USERNAME.test(name)) {
      throw new OperationFailedError("USER_CREATE_FAILED", "user-create", "RESOLVE", {
        cause: new InvalidUsernameError(name),
      });
    }
  }
  if (!current && !(access.mode === "custom-key" && access.adopt)) {
    throw new OperationFailedError("INTERNAL", "connect", operationFor("connect", access), {
      cause: new Error("No platform key generation is available: import or rotate a key first."),
    });
  }

  const credentials =
    access.mode === "platform"
      ? generationCredentials(generations)
      : access.mode === "password"
        ? [{ kind: "password" as const, label: "password", password: access.password }]
        : [customCredential(access.key)];

  const first = await at("handshake", async () => {
    handshakes += 1;
    return openSession({
      host: device.host,
      port: device.port,
      username: loginUser,
      hostKeyFingerprint: device.hostKeyFingerprint,
      credentials,
      timeouts: options.timeouts,
      signal: options.signal,
    });
  });
  const pinned: SessionTarget = {
    host: device.host,
    port: device.port,
    username: device.adminUser,
    hostKeyFingerprint: first.hostKeyFingerprint,
  };
  const step = async (name: ReplaceStep) => {
    steps.push(name);
    await options.onStep?.(name, { kill: () => first.destroy() });
  };

  try {
    const heldGeneration =
      access.mode === "platform" ? (generations[first.credentialIndex]?.generation ?? null) : null;
    const base = {
      deviceId: device.id,
      heldGeneration,
      hostKeyFingerprint: first.hostKeyFingerprint,
      pinnedOnFirstContact: first.pinnedOnFirstContact,
    };

    let userCreated = false;
    const ctx: RemoteContext = {
      session: first,
      path: device.authorizedKeysPath ?? DEFAULT_PATH,
      privilege: "self",
    };
    if (loginUser !== device.adminUser) {
      const uid = await at("user-create", () => remoteUid(first));
      ctx.privilege = uid === 0 ? "root" : "sudo";
      ctx.owner = device.adminUser;
      if (access.mode === "password") ctx.sudoPassword = access.password;
      userCreated = await at("user-create", () => ensureUser(ctx, device.adminUser));
    }
    await step("connected");

    if (access.mode === "custom-key" && access.adopt) {
      return {
        ...base,
        status: "CUSTOM_KEY_BASED",
        generation: null,
        changed: false,
        prunedLines: 0,
        userCreated,
        handshakes,
        steps,
      };
    }
    // biome-ignore lint/style/noNonNullAssertion: checked above for every mode but adopt
    const newest = current!;
    const older = generations.filter((g) => g.generation !== newest.generation).map((g) => g.key);

    // 1–3: add the current generation by compare-and-swap, then prove it on a fresh connection.
    const before = await at("read", () => readAuthorizedKeys(ctx));
    await step("read");
    const added = await at("read", async () =>
      editAuthorizedKeys(before.content, { present: [newest.key], absent: [] }),
    );
    if (added.changed) {
      await writeBySwap(ctx, before, added.content, at, step, ["staged", "committed"]);
    }
    const alreadyProven =
      !added.changed && heldGeneration === newest.generation && loginUser === device.adminUser;
    if (!alreadyProven) {
      handshakes += 1;
      await verifyOrRollBack(
        ctx,
        pinned,
        newest,
        before,
        added.content,
        added.changed,
        options,
        at,
      );
    }
    await step("verified");

    // 4: only now remove older generations, and prove the current one again.
    // No re-read: the bytes are the ones just written (or read), and compare-and-swap refuses the
    // rename if anyone changed the file since.
    const mid: Snapshot = added.changed
      ? { content: added.content, hash: hashOf(added.content), existed: true }
      : before;
    const pruned = await at("prune", async () =>
      editAuthorizedKeys(mid.content, { present: [newest.key], absent: older }),
    );
    if (pruned.changed) {
      await writeBySwap(ctx, mid, pruned.content, (_s, fn) => at("prune", fn), step, [
        "prune-staged",
        "pruned",
      ]);
      handshakes += 1;
      await verifyOrRollBack(ctx, pinned, newest, mid, pruned.content, true, options, at);
      await step("reverified");
    }

    return {
      ...base,
      status: "KEY_BASED",
      generation: newest.generation,
      changed: added.changed || pruned.changed,
      prunedLines: pruned.removed,
      userCreated,
      handshakes,
      steps,
    };
  } finally {
    first.close();
  }
}

type At = <T>(stage: Stage, fn: () => Promise<T>) => Promise<T>;

async function writeBySwap(
  ctx: RemoteContext,
  snapshot: Snapshot,
  content: Buffer,
  at: At,
  step: (name: ReplaceStep) => Promise<void>,
  [stagedStep, committedStep]: [ReplaceStep, ReplaceStep],
): Promise<void> {
  const temp = await at("write", () => stageAuthorizedKeys(ctx, content));
  await step(stagedStep);
  await at("write", () => commitAuthorizedKeys(ctx, temp, snapshot.hash));
  await step(committedStep);
}

/**
 * Logs in on a fresh connection with the new key and runs a command. When the device refuses
 * the key, the bytes from before the write are restored over the still-open first session.
 * A verification that fails for any other reason (timeout, lost connection) leaves the file as
 * it is: it holds the previous keys as well, so nobody is locked out and the next run converges.
 */
async function verifyOrRollBack(
  ctx: RemoteContext,
  target: SessionTarget,
  newest: Generation,
  before: Snapshot,
  written: Buffer,
  wasWritten: boolean,
  options: HealOptions,
  at: At,
): Promise<void> {
  try {
    await proveLogin(target, newest, options);
  } catch (error) {
    if (!(error instanceof AuthRejectedError) || !wasWritten) {
      throw new OperationFailedError(classify(error, "verify"), "verify", "VERIFY", {
        cause: error,
      });
    }
    let rolledBack = false;
    try {
      await at("rollback", async () => {
        const temp = await stageAuthorizedKeys(ctx, before.content);
        await commitAuthorizedKeys(ctx, temp, hashOf(written));
      });
      rolledBack = true;
    } catch {
      // The file keeps both keys; the cause below says the rollback did not happen.
    }
    throw new OperationFailedError("SSH_CONFIG_MODIFIED", "verify", "VERIFY", {
      cause: new VerificationFailedError(target.host, rolledBack, { cause: error }),
    });
  }
}

/** A fresh connection with only the given key, running one command. */
async function proveLogin(
  target: SessionTarget,
  generation: Generation,
  options: Pick<HealOptions, "timeouts" | "signal">,
): Promise<void> {
  const session: SshSession = await openSession({
    ...target,
    credentials: generationCredentials([generation]),
    timeouts: options.timeouts,
    signal: options.signal,
  });
  try {
    const result = await session.exec("echo keyheal-verified", { what: "verify" });
    if (result.code !== 0 || !result.stdout.toString().includes("keyheal-verified")) {
      throw new AuthRejectedError(target.host, target.username, ["verification command"]);
    }
  } finally {
    session.close();
  }
}
