import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SimulatedDevice } from "../../lib/local/simulated-device.ts";
import type { DeviceTarget } from "../../lib/replace/heal-device.ts";
import { targetOf } from "./login.ts";
import type { ScenarioDevice } from "./protocol-scenarios.ts";

/**
 * The in-process ssh2 device (lib/local/simulated-device.ts) dressed as a test device: the
 * current user, a home in a temp directory with sshd's layout (`~/.ssh/authorized_keys`), no
 * root, no sshd. The protocol's scenarios run against it in the unit project.
 */
export class SimulatedTestDevice implements ScenarioDevice {
  readonly id = "sim-0";
  readonly #device: SimulatedDevice;

  private constructor(device: SimulatedDevice) {
    this.#device = device;
  }

  static async start(): Promise<SimulatedTestDevice> {
    return new SimulatedTestDevice(
      await SimulatedDevice.create("", { authorizedKeysFile: ".ssh/authorized_keys" }),
    );
  }

  get host(): string {
    return this.#device.host;
  }
  get port(): number {
    return this.#device.port;
  }
  get user(): string {
    return this.#device.user;
  }
  get hostKeyFingerprint(): string {
    return this.#device.hostKeyFingerprint;
  }
  get home(): string {
    return this.#device.dir;
  }
  get authorizedKeysFile(): string {
    return this.#device.authorizedKeysFile;
  }

  target(overrides: Partial<DeviceTarget> = {}): DeviceTarget {
    return targetOf(this, overrides);
  }

  /** A fresh home: everything in it removed, 0700 ~/.ssh, authorized_keys 0600 with `content`. */
  async resetHome(content?: string | Buffer): Promise<void> {
    for (const name of await readdir(this.home)) {
      await rm(join(this.home, name), { recursive: true, force: true });
    }
    await chmod(this.home, 0o755);
    await mkdir(join(this.home, ".ssh"), { mode: 0o700 });
    if (content !== undefined) await this.writeAuthorizedKeys(content);
  }

  readAuthorizedKeys(): Promise<Buffer> {
    return readFile(this.authorizedKeysFile);
  }

  writeAuthorizedKeys(content: string | Buffer): Promise<void> {
    return writeFile(this.authorizedKeysFile, content, { mode: 0o600 });
  }

  writeHomeFile(relative: string, content: string | Buffer, mode = 0o600): Promise<void> {
    return writeFile(join(this.home, relative), content, { mode });
  }

  stop(): Promise<void> {
    return this.#device.destroy();
  }
}
