/**
 * The fault matrix on real sshd: each fault (a full or read-only file system among them, and
 * keyheal itself killed with SIGKILL) applied at each step of the heal protocol (detect,
 * read, write in flight, commit, verify, prune in flight), on a device holding the previous generation. For each
 * cell: no lockout (once the fault is gone, a key keyheal holds logs in), no corrupted or
 * truncated file, a faulted run that fails names a cause, and the next run converges to the
 * current generation with every unmanaged line kept. The matrix is printed with its counts.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationFailedError } from "../../lib/failures/errors.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice, type ReplaceStep } from "../../lib/replace/heal-device.ts";
import { openSession } from "../../lib/ssh/connect.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { run } from "../harness/system.ts";
import { printTable } from "./harness.ts";

const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "matrix-gen1" }) };
const gen2: Generation = { generation: 2, key: generateKeyPair({ comment: "matrix-gen2" }) };
const KEPT = "# kept: a line keyheal does not manage\n";
const ORIGINAL = `${KEPT}${gen1.key.authorizedKey}\n`;
const HEALED = `${KEPT}${gen2.key.authorizedKey}\n`;

const STEPS: Array<[string, ReplaceStep]> = [
  ["detect", "connected"],
  ["read", "read"],
  ["write (in flight)", "writing"],
  ["commit", "committed"],
  ["verify", "verified"],
  ["prune (in flight)", "prune-writing"],
];

let fleet: Fleet;
/** One device per fault: the columns run in parallel, each column's steps one after another. */
const deviceOf = new Map<string, TestDevice>();
/** The host key fingerprint the operator pins for each device. */
const pinnedOf = new Map<TestDevice, string>();

/** The session processes of the device's user (what dies when the device loses power). */
function userPids(user: string): number[] {
  const ps = spawnSync("ps", ["-o", "pid=", "-u", user], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
}

interface Fault {
  name: string;
  apply(device: TestDevice, kill: () => void): Promise<void>;
  undo(device: TestDevice): Promise<void>;
  /** The heal runs in a process of its own that kills itself (SIGKILL) at the step. */
  killsKeyheal?: true;
}

const FAULTS: Fault[] = [
  { name: "connection killed", apply: async (_, kill) => kill(), undo: async () => {} },
  { name: "sshd stopped", apply: (device) => device.stop(), undo: (device) => device.start() },
  {
    name: "powered off",
    apply: async (device, kill) => {
      await device.stop();
      for (const pid of userPids(device.user)) process.kill(pid, "SIGKILL");
      kill();
    },
    undo: (device) => device.start(),
  },
  {
    name: "immutable file",
    apply: async (device) => void (await run("chattr", ["+i", device.authorizedKeysFile])),
    undo: async (device) => void (await run("chattr", ["-i", device.authorizedKeysFile])),
  },
  {
    name: "symlinked file",
    apply: async (device) => {
      await rename(device.authorizedKeysFile, `${device.authorizedKeysFile}.real`);
      await symlink(`${device.authorizedKeysFile}.real`, device.authorizedKeysFile);
    },
    undo: async (device) => {
      // Only this fault moves the file away: absent, its symlink was never made (the heal's
      // rename took the name first, or the check between the two steps saw no file).
      const info = await lstat(device.authorizedKeysFile).catch(() => undefined);
      if (!info || info.isSymbolicLink()) {
        await rm(device.authorizedKeysFile, { force: true });
        await rename(`${device.authorizedKeysFile}.real`, device.authorizedKeysFile);
      }
    },
  },
  {
    name: "StrictModes violation",
    apply: (device) => chmod(device.home, 0o777),
    undo: (device) => chmod(device.home, 0o755),
  },
  {
    name: "file system full",
    // The home is a small tmpfs (mounted in beforeAll); a filler takes every block left.
    apply: async (device) => {
      await run("dd", ["if=/dev/zero", `of=${join(device.home, "filler")}`, "bs=64k"]).catch(
        () => {},
      );
    },
    undo: (device) => rm(join(device.home, "filler"), { force: true }),
  },
  {
    name: "read-only file system",
    apply: async (device) => void (await run("mount", ["-o", "remount,ro", device.home])),
    undo: async (device) => void (await run("mount", ["-o", "remount,rw", device.home])),
  },
  {
    name: "host key changed",
    apply: async (device) => {
      await device.stop();
      await device.newHostKey();
      await device.start();
    },
    // The operator confirms the reinstall and pins the new key.
    undo: async (device) => {
      pinnedOf.set(device, device.hostKeyFingerprint);
    },
  },
  {
    // keyheal itself dies at the step (heal-child.ts), as a runtime or a Lambda does when it is
    // killed or runs out of time; whatever it had in flight on the device is cut with it.
    name: "keyheal killed (SIGKILL)",
    apply: async () => {},
    undo: async () => {},
    killsKeyheal: true,
  },
];

const HEAL_CHILD = new URL("./heal-child.ts", import.meta.url).pathname;

/** The heal in a child process that kills itself at `at`: `killed` or, if `at` never came, `healed`. */
async function healKilledAt(device: TestDevice, at: ReplaceStep): Promise<string> {
  const child = spawn(process.execPath, [HEAL_CHILD], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.end(
    JSON.stringify({
      target: device.target({ hostKeyFingerprint: pinnedOf.get(device) as string }),
      generations: [gen2, gen1].map((g) => ({
        generation: g.generation,
        privateKey: g.key.privateKey,
        comment: g.key.comment,
      })),
      at,
    }),
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  if (signal === "SIGKILL") return "killed";
  expect(code, `the heal child's exit (${out.trim()})`).toBe(0);
  return out.trim();
}

interface Cell {
  pass: boolean;
  outcome: string;
}
const cells = new Map<string, Cell>();

async function keyLogsIn(device: TestDevice): Promise<boolean> {
  for (const g of [gen2, gen1]) {
    try {
      const session = await openSession({
        host: device.host,
        port: device.port,
        username: device.user,
        hostKeyFingerprint: pinnedOf.get(device) ?? "",
        credentials: [
          {
            kind: "publickey",
            label: `gen${g.generation}`,
            fingerprint: g.key.fingerprint,
            privateKey: g.key.privateKey,
          },
        ],
      });
      session.close();
      return true;
    } catch {}
  }
  return false;
}

/** Faults whose device's home is a file system of its own: a 1 MiB tmpfs. */
const ON_TMPFS = new Set(["file system full", "read-only file system"]);

/**
 * A fresh home as TestDevice.resetHome makes it, on a home that is a mount point (which can be
 * emptied, not removed).
 */
async function resetHome(device: TestDevice, content: string): Promise<void> {
  if (!ON_TMPFS.has([...deviceOf].find(([, d]) => d === device)?.[0] ?? "")) {
    return device.resetHome(content);
  }
  for (const entry of await readdir(device.home)) {
    await rm(join(device.home, entry), { recursive: true, force: true });
  }
  await mkdir(join(device.home, ".ssh"), { mode: 0o700 });
  await chmod(device.home, 0o755);
  await device.writeAuthorizedKeys(content);
  await run("chown", ["-R", `${device.user}:${device.user}`, device.home]);
}

beforeAll(async () => {
  fleet = await startFleet(FAULTS.length);
  FAULTS.forEach((fault, i) => void deviceOf.set(fault.name, fleet.devices[i] as TestDevice));
  for (const name of ON_TMPFS) {
    const device = deviceOf.get(name) as TestDevice;
    await run("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", device.home]);
  }
});

afterAll(async () => {
  for (const name of ON_TMPFS) {
    const device = deviceOf.get(name);
    if (device) await run("umount", [device.home]).catch(() => {});
  }
  await fleet?.stop();
  const rows = STEPS.map(([step]) => [
    step,
    ...FAULTS.map((f) => {
      const cell = cells.get(`${step}/${f.name}`);
      return cell ? `${cell.pass ? "pass" : "FAIL"} ${cell.outcome}` : "not run";
    }),
  ]);
  const passed = [...cells.values()].filter((c) => c.pass).length;
  printTable(
    `fault matrix: ${passed} of ${STEPS.length * FAULTS.length} cells pass (${cells.size} run)`,
    ["step \\ fault", ...FAULTS.map((f) => f.name)],
    rows,
  );
});

/**
 * The cells of one column share a device, so each waits for the one before it; columns run in
 * parallel (the project's maxConcurrency lets every column have a cell running).
 */
const columnTail = new Map<string, Promise<unknown>>();
function afterPrevious<T>(column: string, cell: () => Promise<T>): Promise<T> {
  const previous = columnTail.get(column) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(cell);
  columnTail.set(column, mine);
  return mine;
}

describe.concurrent("the fault matrix", () => {
  for (const [step, at] of STEPS) {
    for (const fault of FAULTS) {
      it(`${fault.name} at ${step}: no lockout, no torn file, the next run converges`, () =>
        afterPrevious(fault.name, async () => {
          const device = deviceOf.get(fault.name) as TestDevice;
          const key = `${step}/${fault.name}`;
          cells.set(key, { pass: false, outcome: "?" });
          await resetHome(device, ORIGINAL);
          pinnedOf.set(device, device.hostKeyFingerprint);
          let applied = false;
          const healed = fault.killsKeyheal ? healKilledAt(device, at) : undefined;
          const outcome = await (healed ??
            healDevice({
              device: device.target({ hostKeyFingerprint: pinnedOf.get(device) as string }),
              generations: [gen2, gen1],
              timeouts: { handshakeMs: 3000, commandMs: 3000 },
              onStep: async (reached, control) => {
                if (reached !== at || applied) return;
                applied = true;
                await fault.apply(device, () => control.kill());
              },
            }).then(
              () => "healed",
              (error: unknown) => {
                expect(error).toBeInstanceOf(OperationFailedError);
                return (error as OperationFailedError).code;
              },
            ));
          cells.set(key, { pass: false, outcome });
          await fault.undo(device);
          // No torn file: the original or the healed bytes, or the original with the new key added.
          const now = (await readFile(device.authorizedKeysFile)).toString();
          expect([ORIGINAL, HEALED, `${ORIGINAL}${gen2.key.authorizedKey}\n`]).toContain(now);
          expect(await keyLogsIn(device), "a key keyheal holds logs in").toBe(true);
          // The next run converges.
          await healDevice({
            device: device.target({ hostKeyFingerprint: pinnedOf.get(device) as string }),
            generations: [gen2, gen1],
          });
          expect((await readFile(device.authorizedKeysFile)).toString()).toBe(HEALED);
          cells.set(key, { pass: true, outcome });
        }));
    }
  }
});
