import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SandboxDeviceBase } from "./sandbox-device.ts";

const run = promisify(execFile);
export const SSHD_PATH = "/usr/sbin/sshd";

export class SshdNotInstalledError extends Error {
  constructor() {
    super(
      `${SSHD_PATH} not found: sandbox devices are real OpenSSH servers. Install it (apt-get install -y openssh-server).`,
    );
    this.name = "SshdNotInstalledError";
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no free port on 127.0.0.1");
  return address.port;
}

async function waitForBanner(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host: "127.0.0.1", port });
      s.once("data", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export type SandboxLogLevel = "INFO" | "VERBOSE" | "DEBUG1";

/**
 * A device for demos and benchmarks: a real sshd on 127.0.0.1 running as the current user (no
 * root needed), whose authorized_keys is a file in its own sandbox directory.
 */
export class SandboxDevice extends SandboxDeviceBase {
  hostKeyFingerprint = "";
  /** sshd's LogLevel; the fleet bench reads DEBUG1 to count exec and shell requests. */
  readonly logLevel: SandboxLogLevel;
  #child: ChildProcess | undefined;

  private constructor(dir: string, logLevel: SandboxLogLevel) {
    super(dir);
    this.logLevel = logLevel;
  }

  override get authorizedKeysFile(): string {
    return join(this.dir, "authorized_keys");
  }

  /** sshd's own log: one "Accepted publickey" line per authenticated connection. */
  get logFile(): string {
    return join(this.dir, "sshd.log");
  }

  static async create(
    authorizedKeys: string,
    options: { logLevel?: SandboxLogLevel } = {},
  ): Promise<SandboxDevice> {
    if (!existsSync(SSHD_PATH)) throw new SshdNotInstalledError();
    const device = new SandboxDevice(
      await mkdtemp(join(tmpdir(), "keyheal-device-")),
      options.logLevel ?? "INFO",
    );
    await writeFile(device.authorizedKeysFile, authorizedKeys, { mode: 0o600 });
    const hostKey = join(device.dir, "host_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    const { stdout } = await run("ssh-keygen", ["-lf", `${hostKey}.pub`]);
    device.hostKeyFingerprint = stdout.split(" ")[1] ?? "";
    await device.start();
    return device;
  }

  async start(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      // A restarted device keeps its port, as a real one would.
      if (!this.port || attempt > 0) this.port = await freeLoopbackPort();
      const config = join(this.dir, "sshd_config");
      await writeFile(
        config,
        [
          `Port ${this.port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${join(this.dir, "host_ed25519")}`,
          `PidFile ${join(this.dir, "sshd.pid")}`,
          `AuthorizedKeysFile ${this.authorizedKeysFile}`,
          "StrictModes no",
          "UsePAM no",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "PermitRootLogin prohibit-password",
          "MaxStartups 200:30:400",
          `LogLevel ${this.logLevel}`,
          "",
        ].join("\n"),
      );
      const child = spawn(SSHD_PATH, ["-D", "-f", config, "-E", this.logFile], { stdio: "ignore" });
      if (await waitForBanner(this.port, child)) {
        this.#child = child;
        return;
      }
      child.kill("SIGKILL");
    }
    throw new Error(`sshd did not start in ${this.dir}`);
  }

  override async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
