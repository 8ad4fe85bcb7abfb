/**
 * What the heal protocol costs the machine, device side included: on real OpenSSH sshd devices
 * on 127.0.0.1, the whole machine's CPU time (from /proc/stat: keyheal, sshd, the shells and
 * every program they start) per piece of the protocol, and per device of a fleet healed by
 * keyheal's protocol and by the raw ssh2 heal (bench/rotate/raw-heal.ts). Run it alone on the
 * machine: everything else running is counted too.
 *
 *   npm run bench:protocol                         # the pieces, 30 rounds each
 *   DEVICES=100 CONCURRENCY=8 npm run bench:protocol   # and a fleet of 100, 8 at a time
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../lib/keys/index.ts";
import { SandboxDevice } from "../lib/local/sandbox-sshd.ts";
import { authorizedKeysPathSegments } from "../lib/replace/authorized-keys-path.ts";
import { generationCredentials } from "../lib/replace/connect.ts";
import { healDevice } from "../lib/replace/heal-device.ts";
import { readAuthorizedKeys, swapAuthorizedKeys } from "../lib/replace/remote.ts";
import { shellLibrary } from "../lib/replace/remote-scripts.ts";
import { openSession } from "../lib/ssh/connect.ts";
import { RemoteShell } from "../lib/ssh/remote-shell.ts";
import { pool, startBenchFleet } from "./rotate/fleet.ts";
import { rawHeal } from "./rotate/raw-heal.ts";

const ROUNDS = 30;
const DEVICES = Math.min(Math.max(Number(process.env.DEVICES ?? 0) || 0, 0), 250);
const CONCURRENCY = Math.min(Math.max(Number(process.env.CONCURRENCY ?? 8) || 8, 1), 64);

/** The machine's busy CPU time so far, in ms (user, nice, system, irq, softirq of every core). */
function machineBusyMs(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return (user + nice + system + irq + softirq) * 10; // USER_HZ is 100 on Linux
}

async function piece(name: string, fn: () => Promise<unknown>): Promise<void> {
  await fn(); // warm
  const busy = machineBusyMs();
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) await fn();
  const cpu = (machineBusyMs() - busy) / ROUNDS;
  const wall = (performance.now() - started) / ROUNDS;
  console.log(`| ${name} | ${cpu.toFixed(1)} | ${wall.toFixed(1)} |`);
}

async function pieces(): Promise<void> {
  const key = generateKeyPair({ comment: "bench" });
  const device = await SandboxDevice.create(`${key.authorizedKey}\n`);
  const target = {
    host: device.host,
    port: device.port,
    username: device.user,
    hostKeyFingerprint: device.hostKeyFingerprint,
  };
  const credentials = generationCredentials([{ generation: 1, key }]);
  const connect = () => openSession({ ...target, credentials });
  try {
    console.log(`Protocol pieces, ${ROUNDS} rounds each, on one sshd device:\n`);
    console.log("| piece | machine CPU, ms | wall, ms |\n| --- | --- | --- |");
    await piece("handshake and authentication", async () => (await connect()).close());
    await piece("handshake, authentication and one command (`true`)", async () => {
      const session = await connect();
      await session.exec("true", { what: "true", maxOutputBytes: 1024 });
      session.close();
    });
    await piece("handshake, authentication and the framed shell", async () => {
      const session = await connect();
      (await RemoteShell.open(session, { library: shellLibrary })).close();
      session.close();
    });
    const session = await connect();
    const shell = await RemoteShell.open(session, { library: shellLibrary });
    const ctx = {
      shell,
      path: device.authorizedKeysFile,
      segments: authorizedKeysPathSegments(device.authorizedKeysFile, device.user),
    };
    try {
      await piece("an empty step on the open shell", () => shell.run("true", { what: "true" }));
      await piece("read step (`kh_read`)", () => readAuthorizedKeys(ctx));
      await piece("read and write steps (`kh_read`, `kh_write`)", async () => {
        const before = await readAuthorizedKeys(ctx);
        const content = Buffer.from(`${key.authorizedKey}\n# ${performance.now()}\n`);
        await swapAuthorizedKeys(ctx, content, before, true);
      });
    } finally {
      shell.close();
      session.close();
    }
  } finally {
    await device.stop();
  }
}

async function fleet(size: number): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "keyheal-protocol-cost-"));
  const devices = await startBenchFleet(size, work);
  try {
    const old = generateKeyPair({ comment: "old" });
    const next = generateKeyPair({ comment: "new" });
    console.log(
      `\nA fleet of ${size}, ${CONCURRENCY} at a time, each device from the old key to the new:\n`,
    );
    console.log("| heal | machine CPU per device, ms | wall, s |\n| --- | --- | --- |");
    await devices.reset(old);
    let busy = machineBusyMs();
    let started = performance.now();
    await pool(devices.devices, CONCURRENCY, (d, i) =>
      healDevice({
        device: {
          id: `d${i}`,
          host: d.host,
          port: d.port,
          adminUser: d.user,
          hostKeyFingerprint: d.hostKeyFingerprint,
          authorizedKeysPath: d.authorizedKeysFile,
        },
        generations: [
          { generation: 2, key: next },
          { generation: 1, key: old },
        ],
      }),
    );
    const line = (name: string) =>
      console.log(
        `| ${name} | ${((machineBusyMs() - busy) / size).toFixed(0)} | ${((performance.now() - started) / 1000).toFixed(1)} |`,
      );
    line("keyheal's protocol (`healDevice`)");
    const problems = await devices.check(old, next.fingerprint);
    if (problems.length > 0) throw new Error(`keyheal's heal left problems: ${problems[0]}`);

    await devices.reset(old);
    const keys = {
      oldPrivateKey: old.privateKey,
      newPrivateKey: next.privateKey,
      oldBlob: old.authorizedKey.split(" ")[1] as string,
      newLine: next.authorizedKey,
    };
    busy = machineBusyMs();
    started = performance.now();
    await pool(devices.devices, CONCURRENCY, (d) =>
      rawHeal(
        {
          host: d.host,
          port: d.port,
          user: d.user,
          path: d.authorizedKeysFile,
          hostKeyFingerprint: d.hostKeyFingerprint,
        },
        keys,
      ),
    );
    line("the raw ssh2 heal (`bench/rotate/raw-heal.ts`)");
  } finally {
    await devices.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

await pieces();
if (DEVICES > 0) await fleet(DEVICES);
