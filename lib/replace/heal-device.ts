import { editAuthorizedKeys } from "../authorized-keys/index.ts";
import { type Operation, OperationFailedError } from "../failures/errors.ts";
import type { KeyPair } from "../keys/types.ts";
import { openSession } from "../ssh/connect.ts";
import type { Stage } from "../ssh/errors.ts";
import type { Credential, SessionTarget, SshTimeouts } from "../ssh/types.ts";
import {
  authorizedKeysPathSegments,
  DEFAULT_AUTHORIZED_KEYS_PATH,
} from "./authorized-keys-path.ts";
import { classify } from "./classify.ts";
import { connectWithGenerations, type Generation } from "./connect.ts";
import { InvalidUsernameError } from "./errors.ts";
import {
  ensureUser,
  hashOf,
  type RemoteContext,
  readAuthorizedKeys,
  type Snapshot,
  swapAuthorizedKeys,
} from "./remote.ts";
import { verifyOrRollBack } from "./verify-login.ts";
import { openWorkShell } from "./work-shell.ts";

export type { Generation } from "./connect.ts";
export { generationCredentials } from "./connect.ts";

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

/**
 * The points of a heal, in order. `writing` and `prune-writing` are reported with the write
 * command in flight, the others once the step is done.
 */
export type ReplaceStep =
  | "connected"
  | "read"
  | "writing"
  | "committed"
  | "verified"
  | "prune-writing"
  | "pruned";

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
  /** SSH handshakes this run made: 1 to detect (more for old generations), 1 more to verify. */
  handshakes: number;
  steps: ReplaceStep[];
}

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

function customCredential(key: KeyPair): Credential {
  return {
    kind: "publickey",
    label: `custom key (${key.fingerprint})`,
    fingerprint: key.fingerprint,
    privateKey: key.privateKey,
  };
}

/**
 * Heals one device by the safe replacement protocol (docs/protocol.md):
 * the first connection detects which key the device holds and keeps one framed shell open; the
 * current generation is added by compare-and-swap in one step; a fresh connection with the new
 * key proves it logs in and runs a command; only then are older generations removed, over the
 * first shell. A refused verification is rolled back over that same shell. Every interruption
 * leaves either the old keys, or both, or the verified new key: the next run converges.
 *
 * Two handshakes and three shell steps for a device holding an earlier generation; one handshake
 * and one step for a device already on the current one.
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
  const path = device.authorizedKeysPath ?? DEFAULT_AUTHORIZED_KEYS_PATH;
  const segments = await at("read", async () => authorizedKeysPathSegments(path, device.adminUser));
  if (!current && !(access.mode === "custom-key" && access.adopt)) {
    throw new OperationFailedError("INTERNAL", "connect", operationFor("connect", access), {
      cause: new Error("No platform key generation is available: import or rotate a key first."),
    });
  }

  const target: SessionTarget = {
    host: device.host,
    port: device.port,
    username: loginUser,
    hostKeyFingerprint: device.hostKeyFingerprint,
  };
  let heldGeneration: number | null = null;
  const first = await at("handshake", async () => {
    if (access.mode === "platform") {
      const found = await connectWithGenerations(target, generations, options);
      handshakes += found.connections;
      heldGeneration = found.held.generation;
      return found.session;
    }
    handshakes += 1;
    const credential: Credential =
      access.mode === "password"
        ? { kind: "password", label: "password", password: access.password }
        : customCredential(access.key);
    return openSession({
      ...target,
      credentials: [credential],
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
    const base = {
      deviceId: device.id,
      heldGeneration,
      hostKeyFingerprint: first.hostKeyFingerprint,
      pinnedOnFirstContact: first.pinnedOnFirstContact,
    };

    let userCreated = false;
    const asAnotherUser = loginUser !== device.adminUser;
    const sudoPassword = access.mode === "password" ? access.password : undefined;
    const shell = await at(asAnotherUser ? "user-create" : "read", () =>
      openWorkShell(first, asAnotherUser, sudoPassword),
    );
    const ctx: RemoteContext = { shell, path, segments };
    if (asAnotherUser) {
      ctx.owner = device.adminUser;
      userCreated = await at("user-create", () => ensureUser(shell, device.adminUser));
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
      await writeBySwap(ctx, before, added.content, (fn) => at("write", fn), step, "writing", true);
      await step("committed");
    }
    const alreadyProven = !added.changed && heldGeneration === newest.generation && !asAnotherUser;
    if (!alreadyProven) {
      handshakes += 1;
      await verifyOrRollBack({
        ctx,
        target: pinned,
        newest,
        before,
        written: added.changed ? added.content : undefined,
        options,
        at,
      });
    }
    await step("verified");

    // 4: only now remove older generations. The new key's line is kept byte for byte and the
    // file keeps the owner and mode sshd just accepted, so the proof above still holds; no
    // re-read: compare-and-swap refuses the rename if anyone changed the file since.
    const mid: Snapshot = added.changed
      ? { content: added.content, hash: hashOf(added.content), existed: true, mode: before.mode }
      : before;
    const pruned = await at("prune", async () =>
      editAuthorizedKeys(mid.content, { present: [newest.key], absent: older }),
    );
    if (pruned.changed) {
      // No backup this time: the one the first write made holds the file as it was found.
      await writeBySwap(
        ctx,
        mid,
        pruned.content,
        (fn) => at("prune", fn),
        step,
        "prune-writing",
        false,
      );
      await step("pruned");
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

async function writeBySwap(
  ctx: RemoteContext,
  snapshot: Snapshot,
  content: Buffer,
  at: <T>(fn: () => Promise<T>) => Promise<T>,
  step: (name: ReplaceStep) => Promise<void>,
  inFlight: ReplaceStep,
  backup: boolean,
): Promise<void> {
  await at(async () => {
    const swap = swapAuthorizedKeys(ctx, content, snapshot, backup);
    swap.catch(() => {}); // awaited below; a failure meanwhile is not unhandled
    // Report the step with the command sent and in flight (one turn of the event loop lets the
    // shell write it), so a test can cut the connection mid-write.
    await new Promise((resolve) => setImmediate(resolve));
    const reported = step(inFlight).then(
      () => undefined,
      (error: unknown) => error,
    );
    await swap;
    const failure = await reported;
    if (failure) throw failure;
  });
}
