import { randomBytes } from "node:crypto";
import { chmod, readdir, readFile, rename, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { MAX_GENERATIONS_OFFERED } from "../../lib/replace/connect.ts";
import { detectKey } from "../../lib/replace/detect-conflict.ts";
import { VerificationFailedError } from "../../lib/replace/errors.ts";
import {
  type DeviceTarget,
  type Generation,
  healDevice,
  type ReplaceStep,
} from "../../lib/replace/heal-device.ts";
import { failureOf, type LoginAddress, logsInWith } from "./login.ts";

/**
 * A device the protocol's scenarios run against: a real OpenSSH sshd with its own user
 * (fleet.ts, integration project, as root) or the in-process ssh2 device (simulated.ts, unit
 * project, as the current user). Both read `~/.ssh/authorized_keys` and run `~/.ssh/rc` before
 * every command.
 */
export interface ScenarioDevice extends LoginAddress {
  readonly id: string;
  /** The login user's home, as this machine sees it. */
  readonly home: string;
  readonly authorizedKeysFile: string;
  target(overrides?: Partial<DeviceTarget>): DeviceTarget;
  /** A fresh home: 0755, 0700 `~/.ssh`, authorized_keys 0600 with `content`, owned by the user. */
  resetHome(content?: string | Buffer): Promise<void>;
  readAuthorizedKeys(): Promise<Buffer>;
  writeAuthorizedKeys(content: string | Buffer): Promise<void>;
  /** A file under the home, owned by the device's user. */
  writeHomeFile(relative: string, content: string | Buffer, mode?: number): Promise<void>;
}

/** Generations 22 … 1, newest first: more than a device is ever offered. */
const gens: Generation[] = Array.from({ length: MAX_GENERATIONS_OFFERED + 2 }, (_, i) => ({
  generation: i + 1,
  key: generateKeyPair({ comment: `keyheal-gen-${i + 1}` }),
})).reverse();
/** The newest `n` generations, from generation `n` down to 1. */
const newest = (n: number) => gens.slice(gens.length - n);
const gen = (n: number) => gens[gens.length - n] as Generation;
const gen1 = gen(1);
const gen2 = gen(2);
const rotated = newest(2);

const foreign = generateKeyPair({ comment: "alice@laptop" });
const foreignLine = `${foreign.authorizedKey}\n`;
/** Lines keyheal does not manage; each must survive byte for byte. */
const UNMANAGED = [
  "# managed by hand, do not remove\n",
  "\n",
  `from="10.0.0.1,10.0.0.2",command="echo \\"a, b\\"" ${foreign.authorizedKey}\n`,
  `${generateKeyPair({ type: "ecdsa" }).authorizedKey} crlf-line\r\n`,
  `cert-authority ${gen2.key.authorizedKey.split(" ").slice(0, 2).join(" ")} ca-with-same-blob\n`,
  "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t unknown-type\n",
];

function withGen(g: Generation, ...extra: string[]): string {
  return [...UNMANAGED, ...extra, `${g.key.authorizedKey}\n`].join("");
}

async function tempFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(".keyheal-tmp"));
}

/**
 * The heal protocol's scenarios that hold on any SSH server that runs `/bin/sh`: healing,
 * interruption at each step, rollback, read and parse errors, output caps, framing, generations
 * offered in batches (docs/protocol.md). Behaviour only sshd has (StrictModes, sudo, users,
 * AuthorizedKeysFile tokens, immutable files) stays in the integration tests beside the call.
 */
export function protocolScenarios(deviceOf: () => ScenarioDevice): void {
  let device: ScenarioDevice;
  beforeEach(() => {
    device = deviceOf();
  });

  describe("healing", () => {
    beforeEach(() => device.resetHome(withGen(gen1)));

    it("heals a device holding an earlier generation: new key logs in, old is refused, other lines intact", async () => {
      const result = await healDevice({ device: device.target(), generations: rotated });

      expect(result).toMatchObject({
        status: "KEY_BASED",
        heldGeneration: 1,
        generation: 2,
        changed: true,
      });
      expect(result.handshakes).toBe(2);
      expect(await logsInWith(device, gen2)).toBe(true);
      expect(await logsInWith(device, gen1)).toBe(false);
      const after = (await device.readAuthorizedKeys()).toString("latin1");
      expect(after).toBe(withGen(gen2));
    });

    it("the file keeps the mode it had (0644 here), and the backup holds it as it was found", async () => {
      await chmod(device.authorizedKeysFile, 0o644);
      const result = await healDevice({ device: device.target(), generations: rotated });
      expect(result).toMatchObject({ generation: 2, changed: true, prunedLines: 1 });
      expect((await stat(device.authorizedKeysFile)).mode & 0o777).toBe(0o644);
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen2));
      // Two writes (add, then prune); the backup is the first one's: the file before the heal.
      const backup = join(device.authorizedKeysFile, "..", ".keyheal-backup.authorized_keys");
      expect(await readFile(backup, "latin1")).toBe(withGen(gen1));
      expect(await logsInWith(device, gen2)).toBe(true);
    });

    it("a device already on the current generation costs one connection and no write", async () => {
      await device.resetHome(withGen(gen2));
      const result = await healDevice({ device: device.target(), generations: rotated });
      expect(result).toMatchObject({ heldGeneration: 2, changed: false, handshakes: 1 });
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen2));
    });

    it("detection learns the held generation on one connection", async () => {
      const detection = await detectKey({ device: device.target(), generations: rotated });
      expect(detection).toMatchObject({ outcome: "KEY_CONFLICT", generation: 1 });
      expect(detection.hostKeyFingerprint).toBe(device.hostKeyFingerprint);
    });

    it("a heal cut between its write and its prune is finished by the next detection: the old key goes", async () => {
      await device.resetHome(withGen(gen1, `${gen2.key.authorizedKey}\n`));
      // The reconnect's Detect step runs the heal, which prunes on the connection it detected on.
      const detection = await healDevice({ device: device.target(), generations: rotated });
      expect(detection).toMatchObject({ heldGeneration: 2, generation: 2, prunedLines: 1 });
      expect(await logsInWith(device, gen1)).toBe(false);
      expect(await logsInWith(device, gen2)).toBe(true);
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen2));
    });

    it("pins the host key on first contact when none is given", async () => {
      const result = await healDevice({
        device: device.target({ hostKeyFingerprint: undefined }),
        generations: rotated,
      });
      expect(result.pinnedOnFirstContact).toBe(true);
      expect(result.hostKeyFingerprint).toBe(device.hostKeyFingerprint);
    });

    it("heals with RSA and ECDSA generations (rsa-sha2 signatures)", async () => {
      const rsa: Generation = { generation: 4, key: generateKeyPair({ type: "rsa", bits: 2048 }) };
      const ecdsa: Generation = {
        generation: 3,
        key: generateKeyPair({ type: "ecdsa", curve: "p384" }),
      };
      await device.resetHome(withGen(ecdsa));
      const result = await healDevice({ device: device.target(), generations: [rsa, ecdsa] });
      expect(result).toMatchObject({ heldGeneration: 3, generation: 4 });
      expect(await logsInWith(device, rsa)).toBe(true);
      expect(await logsInWith(device, ecdsa)).toBe(false);
    });
  });

  describe("interrupted writes", () => {
    beforeEach(() => device.resetHome(withGen(gen1)));

    const cuts: Array<[string, ReplaceStep]> = [
      ["before the read", "connected"],
      ["after the read", "read"],
      ["while the write is in flight", "writing"],
      ["after the rename but before verify", "committed"],
      ["after verify but before the prune", "verified"],
      ["while the prune is in flight", "prune-writing"],
    ];
    it.each(cuts)(
      "a connection killed %s leaves a working file, and the next run converges",
      async (_label, at) => {
        const failure = await failureOf(
          healDevice({
            device: device.target(),
            generations: rotated,
            onStep: (step, control) => {
              if (step === at) control.kill();
            },
          }),
        );
        expect(failure.code).toBe("CONNECTION_LOST");

        const between = (await device.readAuthorizedKeys()).toString("latin1");
        expect(between.startsWith(UNMANAGED.join(""))).toBe(true);
        expect((await logsInWith(device, gen1)) || (await logsInWith(device, gen2))).toBe(true);

        const again = await healDevice({ device: device.target(), generations: rotated });
        expect(again.generation).toBe(2);
        expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen2));
        expect(await tempFilesIn(join(device.home, ".ssh"))).toEqual([]);
      },
    );
  });

  describe("rollback", () => {
    beforeEach(() => device.resetHome(withGen(gen1)));

    it("a device that reads its keys from another file refuses the new key: rolled back, SSH_CONFIG_MODIFIED", async () => {
      // The target names a file the server does not read: the write succeeds, the verifying
      // login with the new key is refused, and the bytes from before are restored.
      const stale = `# a copy nobody reads\n${foreignLine}`;
      await device.writeHomeFile(".ssh/keys_not_read", stale);
      const failure = await failureOf(
        healDevice({
          device: device.target({ authorizedKeysPath: ".ssh/keys_not_read" }),
          generations: rotated,
        }),
      );
      expect(failure).toMatchObject({ code: "SSH_CONFIG_MODIFIED", operation: "VERIFY" });
      expect(failure.cause).toBeInstanceOf(VerificationFailedError);
      expect((failure.cause as VerificationFailedError).rolledBack).toBe(true);
      expect(await readFile(join(device.home, ".ssh/keys_not_read"), "utf8")).toBe(stale);
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen1));
      expect(await logsInWith(device, gen1)).toBe(true);
      expect(await logsInWith(device, gen2)).toBe(false);
    });
  });

  describe("read and parse errors", () => {
    beforeEach(() => device.resetHome(withGen(gen1)));

    it("a symlinked authorized_keys is refused", async () => {
      await rename(device.authorizedKeysFile, join(device.home, ".ssh/real_keys"));
      await symlink("real_keys", device.authorizedKeysFile);
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("WRITE_FAILED");
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen1));
    });

    it("a symlinked ~/.ssh is refused", async () => {
      await rename(join(device.home, ".ssh"), join(device.home, "ssh-real"));
      await symlink("ssh-real", join(device.home, ".ssh"));
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("WRITE_FAILED");
      expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen1));
    });

    it("an unparseable line holding a key to remove fails naming the line; it stays, and the verified key logs in", async () => {
      const bad = `from="10.0.0.1 ${gen1.key.authorizedKey}`;
      await device.resetHome(`${gen1.key.authorizedKey}\n${bad}\n`);
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("AUTHORIZED_KEYS_UNPARSEABLE");
      expect((failure.cause as Error).message).toMatch(/line 2/);
      expect((await device.readAuthorizedKeys()).toString("latin1")).toContain(`${bad}\n`);
      expect(await logsInWith(device, gen2)).toBe(true);
    });

    it("a path sshd would read differently is refused before any connection", async () => {
      const failure = await failureOf(
        healDevice({
          device: device.target({ authorizedKeysPath: "~bob/.ssh/authorized_keys" }),
          generations: rotated,
        }),
      );
      expect(failure.code).toBe("AUTHORIZED_KEYS_PATH_INVALID");
    });
  });

  describe("issue 10.11: a chatty login does not corrupt the protocol", () => {
    beforeEach(() => device.resetHome(`${foreignLine}${gen1.key.authorizedKey}\n`));

    it("a device whose login prints a banner on every exec (stdout and stderr) heals byte for byte", async () => {
      // The server runs ~/.ssh/rc before every command; what it prints goes to the session.
      await device.writeHomeFile(
        ".ssh/rc",
        'echo "Welcome to prod-db-1 $(date)"\necho "motd: keys rotate Friday" >&2\nprintf "KH\\n"\n',
        0o644,
      );
      const result = await healDevice({ device: device.target(), generations: rotated });
      expect(result).toMatchObject({ generation: 2, changed: true });
      expect((await device.readAuthorizedKeys()).toString()).toBe(
        `${foreignLine}${gen2.key.authorizedKey}\n`,
      );
    });

    it("NUL bytes, binary junk, shell syntax and a last line without a newline travel byte for byte", async () => {
      const junk = Buffer.concat([
        Buffer.from("# \u001b[31mred\u001b[0m comment '$(touch pwned)' `touch pwned` \\ %s %%\n"),
        randomBytes(4096).map((b) => (b === 10 ? 32 : b)),
        Buffer.from("\n\0\0 ssh-foo AAAA\n"),
        Buffer.from(`${gen1.key.authorizedKey}\n`),
        Buffer.from("# no newline at the end"),
      ]);
      await device.resetHome(junk);
      const result = await healDevice({ device: device.target(), generations: rotated });
      expect(result).toMatchObject({ generation: 2, changed: true });
      const now = await device.readAuthorizedKeys();
      const kept = junk.subarray(0, junk.indexOf(`${gen1.key.authorizedKey}\n`));
      expect(now.subarray(0, kept.length).equals(kept)).toBe(true);
      expect(now.toString("latin1")).toContain("# no newline at the end");
      expect(now.toString("latin1")).toContain(gen2.key.authorizedKey);
      expect(now.toString("latin1")).not.toContain(gen1.key.authorizedKey);
      expect(await readdir(device.home)).not.toContain("pwned");
    });
  });

  describe("issue 10.10: remote output is capped", () => {
    beforeEach(() => device.resetHome(`${foreignLine}${gen1.key.authorizedKey}\n`));

    it("an authorized_keys of 3 MB is refused before it is read: OUTPUT_TOO_LARGE, unchanged", async () => {
      const big = `${foreignLine}${"# padding line\n".repeat(200_000)}${gen1.key.authorizedKey}\n`;
      await device.writeAuthorizedKeys(big);
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("OUTPUT_TOO_LARGE");
      expect((await device.readAuthorizedKeys()).toString()).toBe(big);
    });

    it("a login that streams megabytes is cut at the cap: OUTPUT_TOO_LARGE, unchanged", async () => {
      await device.writeHomeFile(".ssh/rc", "head -c 20000000 /dev/zero | tr '\\0' x\n", 0o644);
      const before = await device.readAuthorizedKeys();
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("OUTPUT_TOO_LARGE");
      expect(await device.readAuthorizedKeys()).toEqual(before);
    });
  });

  describe("issue 10.2: a device down for many rotations heals on its own", () => {
    beforeEach(() => device.resetHome(`${foreignLine}${gen1.key.authorizedKey}\n`));

    it("a device holding generation 1 of 7 is found on a second connection and healed", async () => {
      const result = await healDevice({ device: device.target(), generations: newest(7) });
      expect(result).toMatchObject({ heldGeneration: 1, generation: 7, status: "KEY_BASED" });
      expect(result.handshakes).toBe(3); // two to find generation 1, one to verify generation 7
      expect(await logsInWith(device, gen(7))).toBe(true);
      expect(await logsInWith(device, gen1)).toBe(false);
    });

    it(`past ${MAX_GENERATIONS_OFFERED} generations, the failure says the older ones were not offered`, async () => {
      const failure = await failureOf(healDevice({ device: device.target(), generations: gens }));
      expect(failure.code).toBe("AUTH_REJECTED");
      expect(String((failure.cause as Error).message)).toContain(
        `keyheal offers the newest ${MAX_GENERATIONS_OFFERED}`,
      );
      expect(await logsInWith(device, gen1)).toBe(true);
    });
  });
}
