import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice } from "../../lib/replace/heal-device.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { failureOf, logsInWith } from "../harness/login.ts";
import { NOPASSWD_OPS_USER, OPS_USER, run, TEST_ROOT, TTY_OPS_USER } from "../harness/system.ts";

const password = inject("devicePassword");
const gens: Generation[] = [2, 1].map((generation) => ({
  generation,
  key: generateKeyPair({ comment: `keyheal-gen-${generation}` }),
}));
const newest = (n: number) => gens.slice(gens.length - n);
const gen = (n: number) => gens[gens.length - n] as Generation;
const foreign = `${generateKeyPair({ comment: "alice@laptop" }).authorizedKey}\n`;

/** Every file under a directory, as text, to look for a secret in. */
async function everyFileUnder(dir: string): Promise<string> {
  const { stdout } = await run(
    "sh",
    ["-c", `find "$1" -type f -exec cat {} + 2>/dev/null; true`, "sh", dir],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

let fleet: Fleet;
let device: TestDevice;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
});
afterAll(async () => fleet?.stop());
beforeEach(async () => {
  await device.resetHome(`${foreign}${gen(1).key.authorizedKey}\n`);
});

describe("issue 10.5: a sudo password never reaches a file", () => {
  it.each([
    ["a NOPASSWD sudoer", NOPASSWD_OPS_USER],
    ["a sudoer asked for its password", OPS_USER],
  ])(
    "resolving through %s installs the key and writes the password nowhere",
    async (_l, loginUser) => {
      const result = await healDevice({
        device: device.target(),
        generations: newest(2),
        access: { mode: "password", password, loginUser },
      });
      expect(result).toMatchObject({ status: "KEY_BASED", generation: 2 });
      expect(await logsInWith(device, gen(2))).toBe(true);
      expect(await everyFileUnder(device.home)).not.toContain(password);
      const { stdout } = await run("stat", ["-c", "%U %a", device.authorizedKeysFile]);
      expect(stdout.trim()).toBe(`${device.user} 600`);
    },
  );

  it("a sudo that needs a tty gives SUDO_FAILED and changes nothing", async () => {
    const before = await device.readAuthorizedKeys();
    const failure = await failureOf(
      healDevice({
        device: device.target(),
        generations: newest(2),
        access: { mode: "password", password, loginUser: TTY_OPS_USER },
      }),
    );
    expect(failure.code).toBe("SUDO_FAILED");
    expect(await device.readAuthorizedKeys()).toEqual(before);
  });
});

describe("issue 10.12: root never follows a link the user planted", () => {
  it("a user racing a symlink at the backup name cannot make root overwrite a root-owned file", async () => {
    const victim = join(TEST_ROOT, `victim-${device.user}`);
    await writeFile(victim, "root's own\n", { mode: 0o644 });
    const ssh = join(device.home, ".ssh");
    // The user keeps re-planting the link, bounded to 400k rounds (a few seconds).
    const racer = spawn(
      "setpriv",
      [
        `--reuid=${device.user}`,
        `--regid=${device.user}`,
        "--init-groups",
        "sh",
        "-c",
        'i=0; while [ $i -lt 400000 ]; do ln -sfn "$1" "$2/.keyheal-backup.authorized_keys" 2>/dev/null; i=$((i+1)); done',
        "racer",
        victim,
        ssh,
      ],
      { stdio: "ignore" },
    );
    try {
      for (let round = 0; round < 4; round++) {
        await device.writeAuthorizedKeys(`${foreign}${gen(1).key.authorizedKey}\n`);
        await healDevice({
          device: device.target(),
          generations: newest(2),
          access: { mode: "password", password, loginUser: NOPASSWD_OPS_USER },
        }).catch(() => undefined);
      }
    } finally {
      racer.kill();
    }
    expect(await readFile(victim, "utf8")).toBe("root's own\n");
    expect((await stat(victim)).uid).toBe(0);
    await rm(victim, { force: true });
  });

  it("a symlink planted at the backup name before the heal is replaced, its target untouched", async () => {
    const victim = join(TEST_ROOT, `victim2-${device.user}`);
    await writeFile(victim, "root's own\n", { mode: 0o644 });
    await symlink(victim, join(device.home, ".ssh", ".keyheal-backup.authorized_keys"));
    const result = await healDevice({
      device: device.target(),
      generations: newest(2),
      access: { mode: "password", password, loginUser: NOPASSWD_OPS_USER },
    });
    expect(result.generation).toBe(2);
    expect(await readFile(victim, "utf8")).toBe("root's own\n");
    await rm(victim, { force: true });
  });
});

describe("issue 10.4: authorizedKeysPath tokens are expanded as sshd does", () => {
  // One directory per device user: runs on other pool slots leave their own files elsewhere.
  const central = join(TEST_ROOT, "central-keys");
  afterAll(async () => {
    await rm(join(central, device.user), { force: true });
    await rm(join(central, `.keyheal-backup.${device.user}`), { force: true });
    device.authorizedKeysFileSetting = ".ssh/authorized_keys";
    await device.stop();
    await device.start();
  });

  it("%h and %u: a device whose sshd reads %h/.ssh/keys_%u heals there", async () => {
    device.authorizedKeysFileSetting = "%h/.ssh/keys_%u";
    await device.stop();
    await device.start();
    const file = join(device.home, ".ssh", `keys_${device.user}`);
    await writeFile(file, `${foreign}${gen(1).key.authorizedKey}\n`, { mode: 0o600 });
    await run("chown", [`${device.user}:`, file]);
    const result = await healDevice({
      device: device.target({ authorizedKeysPath: "%h/.ssh/keys_%u" }),
      generations: newest(2),
    });
    expect(result.generation).toBe(2);
    expect(await readFile(file, "utf8")).toBe(`${foreign}${gen(2).key.authorizedKey}\n`);
    expect(await logsInWith(device, gen(1))).toBe(false);
  });

  it("a root-owned central file (/…/%u) is written as root and never chowned to the user", async () => {
    device.authorizedKeysFileSetting = `${central}/%u`;
    await device.stop();
    await device.start();
    await mkdir(central, { recursive: true, mode: 0o755 });
    const file = join(central, device.user);
    await writeFile(file, `${foreign}${gen(1).key.authorizedKey}\n`, { mode: 0o644 });
    const result = await healDevice({
      device: device.target({ authorizedKeysPath: `${central}/%u` }),
      generations: newest(2),
      access: { mode: "password", password, loginUser: OPS_USER },
    });
    expect(result.generation).toBe(2);
    const { stdout } = await run("stat", ["-c", "%U %a", file]);
    expect(stdout.trim()).toBe("root 644");
    expect(await logsInWith(device, gen(2))).toBe(true);
    const mine = (await readdir(central)).filter((name) => name.endsWith(device.user));
    expect(mine.sort()).toEqual([device.user, `.keyheal-backup.${device.user}`].sort());
  });

  it("a path sshd would read differently is refused before any connection", async () => {
    const failure = await failureOf(
      healDevice({
        device: device.target({ authorizedKeysPath: "~bob/.ssh/authorized_keys" }),
        generations: newest(2),
      }),
    );
    expect(failure.code).toBe("AUTHORIZED_KEYS_PATH_INVALID");
  });
});
