import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";

export const run = promisify(execFile);
export const SSHD = "/usr/sbin/sshd";
/** Homes of the test users; its parents are root-owned 0755, as StrictModes requires. */
export const TEST_ROOT = "/var/lib/keyheal-test";
export const OPS_USER = "kh_ops";
/** May sudo without a password, as `ubuntu` and `ec2-user` do on cloud images. */
export const NOPASSWD_OPS_USER = "kh_opsnp";
/** May sudo only from a terminal (requiretty). */
export const TTY_OPS_USER = "kh_opstty";
export const POOL_SLOTS = 8;
export const POOL_SIZE = 10;

/** Stops with a message naming what to install when this machine cannot run the device tests. */
export function requireDeviceTestHost(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "The device tests start real sshd processes and create test users: run them as root (CI does, through `bash .ci/run`).",
    );
  }
  for (const [bin, pkg] of [
    [SSHD, "openssh-server"],
    ["/usr/bin/ssh-keygen", "openssh-client"],
    ["/usr/bin/sudo", "sudo"],
    ["/usr/sbin/useradd", "passwd"],
  ] as const) {
    if (!existsSync(bin)) {
      throw new Error(
        `${bin} is missing: install it with \`apt-get install -y ${pkg}\` (or run \`bash .ci/run\`, which installs everything the tests need).`,
      );
    }
  }
}

export function poolUser(slot: number, index: number): string {
  return `kh_t${slot}_${index}`;
}

export function userExists(name: string): boolean {
  return spawnSync("id", ["-u", name]).status === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims a free slot of the user pool with a lock file, so test files (and two test runs on one
 * machine) never share a device user. A lock left by a dead process is taken over.
 */
export function claimPoolSlot(): { slot: number; release(): void } {
  for (let slot = 1; slot <= POOL_SLOTS; slot++) {
    const lock = `${TEST_ROOT}/slot-${slot}.lock`;
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
    } catch {
      const owner = Number(readFileSync(lock, "utf8").trim());
      if (owner && alive(owner)) continue;
      writeFileSync(lock, String(process.pid));
    }
    return { slot, release: () => rmSync(lock, { force: true }) };
  }
  throw new Error(
    `all ${POOL_SLOTS} test user slots are taken: another test run is using this machine`,
  );
}
