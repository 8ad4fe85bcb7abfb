import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeviceTarget } from "../../lib/replace/heal-device.ts";
import { targetOf } from "./login.ts";
import { claimPoolSlot, POOL_SIZE, poolUser, run, SSHD, TEST_ROOT } from "./system.ts";

/** A free TCP port on loopback (the tiny race with sshd's bind is retried by the caller). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Where a device that refuses connections "lives": loopback address 127.0.0.2, on which no test
 * server listens (sshd devices and runtimes bind 127.0.0.1 only), so another test file's sshd
 * taking the port cannot turn the refusal into an answer.
 */
export const REFUSING_HOST = "127.0.0.2";

async function waitForPort(port: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect({ host: "127.0.0.1", port });
      socket.once("data", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.setTimeout(1000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function hostKeyFingerprint(pubPath: string): Promise<string> {
  const { stdout } = await run("ssh-keygen", ["-lf", pubPath]);
  const fp = stdout.split(" ")[1];
  if (!fp) throw new Error(`ssh-keygen -lf ${pubPath} printed ${stdout}`);
  return fp;
}

/** One simulated device: its own user, home, host key, sshd process and port on loopback. */
export class TestDevice {
  readonly id: string;
  readonly user: string;
  readonly home: string;
  readonly dir: string;
  readonly host = "127.0.0.1";
  port = 0;
  hostKeyFingerprint = "";
  /** sshd_config's AuthorizedKeysFile for this device (takes effect at the next start). */
  authorizedKeysFileSetting = ".ssh/authorized_keys";
  #sshd: ChildProcess | undefined;

  constructor(id: string, user: string, dir: string) {
    this.id = id;
    this.user = user;
    this.home = join(TEST_ROOT, "home", user);
    this.dir = dir;
  }

  get authorizedKeysFile(): string {
    return join(this.home, ".ssh", "authorized_keys");
  }

  get logFile(): string {
    return join(this.dir, "sshd.log");
  }

  target(overrides: Partial<DeviceTarget> = {}): DeviceTarget {
    return targetOf(this, overrides);
  }

  /** A fresh home: 0755 home, 0700 ~/.ssh, authorized_keys 0600 with `content`. */
  async resetHome(content?: string | Buffer): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
    await mkdir(join(this.home, ".ssh"), { recursive: true });
    await chmod(this.home, 0o755);
    await chmod(join(this.home, ".ssh"), 0o700);
    if (content !== undefined) await this.writeAuthorizedKeys(content);
    await run("chown", ["-R", `${this.user}:${this.user}`, this.home]);
  }

  async readAuthorizedKeys(): Promise<Buffer> {
    return readFile(this.authorizedKeysFile);
  }

  async writeAuthorizedKeys(content: string | Buffer): Promise<void> {
    await writeFile(this.authorizedKeysFile, content, { mode: 0o600 });
    const { stdout } = await run("id", ["-u", this.user]);
    const uid = Number(stdout.trim());
    await chown(this.authorizedKeysFile, uid, uid).catch(async () => {
      await run("chown", [`${this.user}:`, this.authorizedKeysFile]);
    });
  }

  /** Writes a file under the home (`.ssh/rc`, another keys file), owned by the device's user. */
  async writeHomeFile(relative: string, content: string | Buffer, mode = 0o600): Promise<void> {
    const file = join(this.home, relative);
    await writeFile(file, content, { mode });
    await run("chown", [`${this.user}:`, file]);
  }

  async newHostKey(): Promise<void> {
    const key = join(this.dir, "ssh_host_ed25519_key");
    await rm(key, { force: true });
    await rm(`${key}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    this.hostKeyFingerprint = await hostKeyFingerprint(`${key}.pub`);
  }

  async start(): Promise<void> {
    for (let tries = 0; tries < 5; tries++) {
      if (!this.port || tries > 0) this.port = await freePort();
      const config = join(this.dir, "sshd_config");
      await writeFile(
        config,
        [
          `Port ${this.port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${join(this.dir, "ssh_host_ed25519_key")}`,
          `PidFile ${join(this.dir, "sshd.pid")}`,
          "UsePAM no",
          "PasswordAuthentication yes",
          "KbdInteractiveAuthentication no",
          "PubkeyAuthentication yes",
          "StrictModes yes",
          `AuthorizedKeysFile ${this.authorizedKeysFileSetting}`,
          "AllowUsers kh_*",
          "MaxStartups 200:30:400",
          "LogLevel DEBUG1",
          "",
        ].join("\n"),
      );
      const child = spawn(SSHD, ["-D", "-f", config, "-E", this.logFile], { stdio: "ignore" });
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const up = await Promise.race([waitForPort(this.port, 5000), exited.then(() => false)]);
      if (up) {
        this.#sshd = child;
        return;
      }
      child.kill("SIGKILL");
    }
    throw new Error(`sshd for ${this.id} did not start; see ${this.logFile}`);
  }

  async stop(): Promise<void> {
    const child = this.#sshd;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
    this.#sshd = undefined;
  }

  async sshdLog(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, "utf8") : "";
  }

  async clearLog(): Promise<void> {
    await writeFile(this.logFile, "");
  }
}

export interface Fleet {
  devices: TestDevice[];
  stop(): Promise<void>;
}

/**
 * Starts `count` devices on loopback, each a real OpenSSH sshd with its own user (from this
 * worker's slot of the pool made by global-setup), home and host key.
 */
export async function startFleet(count: number): Promise<Fleet> {
  if (count > POOL_SIZE) throw new Error(`a fleet has at most ${POOL_SIZE} devices`);
  return startFleetOnSlots(count, [claimPoolSlot()]);
}

/**
 * Starts `count` devices (more than one slot holds) on as many pool slots as they need, ids
 * `dev-0` … `dev-<count-1>`; the slots are given back by `stop()`. Devices start a slot at a
 * time in parallel, so 50 sshd take seconds, not a minute.
 */
export async function startLargeFleet(count: number): Promise<Fleet> {
  const slots: Array<ReturnType<typeof claimPoolSlot>> = [];
  // Slots other test files hold are given back when they end: wait for them, bounded.
  const until = Date.now() + 120_000;
  while (slots.length < Math.ceil(count / POOL_SIZE)) {
    try {
      slots.push(claimPoolSlot());
    } catch (error) {
      if (Date.now() > until) {
        for (const s of slots) s.release();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return startFleetOnSlots(count, slots);
}

async function startFleetOnSlots(
  count: number,
  slots: Array<ReturnType<typeof claimPoolSlot>>,
): Promise<Fleet> {
  const base = await mkdtemp(join(tmpdir(), "keyheal-fleet-"));
  const devices: TestDevice[] = [];
  const stop = async () => {
    await Promise.all(devices.map((d) => d.stop()));
    for (const d of devices) await run("chattr", ["-R", "-i", d.home]).catch(() => {});
    await rm(base, { recursive: true, force: true });
    for (const s of slots) s.release();
  };
  try {
    for (let first = 0; first < count; first += POOL_SIZE) {
      const slot = slots[first / POOL_SIZE]?.slot as number;
      const batch = Array.from({ length: Math.min(POOL_SIZE, count - first) }, async (_, j) => {
        const dir = join(base, `device-${first + j}`);
        await mkdir(dir);
        const device = new TestDevice(`dev-${first + j}`, poolUser(slot, j), dir);
        await device.newHostKey();
        await device.resetHome();
        await device.start();
        return device;
      });
      devices.push(...(await Promise.all(batch)));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { devices, stop };
}
