import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { detectKey } from "../../lib/replace/detect-conflict.ts";
import { type Generation, healDevice, type ReplaceStep } from "../../lib/replace/heal-device.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { failureOf, logsInWith } from "../harness/login.ts";

const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "keyheal-gen-1" }) };
const gen2: Generation = { generation: 2, key: generateKeyPair({ comment: "keyheal-gen-2" }) };
const rotated = [gen2, gen1];

/** Lines keyheal does not manage; each must survive byte for byte. */
const foreign = generateKeyPair({ comment: "alice@laptop" });
const UNMANAGED = [
  "# managed by hand, do not remove\n",
  "\n",
  `from="10.0.0.1,10.0.0.2",command="echo \\"a, b\\"" ${foreign.authorizedKey}\n`,
  `${generateKeyPair({ type: "ecdsa" }).authorizedKey} crlf-line\r\n`,
  `cert-authority ${gen2.key.authorizedKey.split(" ").slice(0, 2).join(" ")} ca-with-same-blob\n`,
  "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t unknown-type\n",
];

function withGen(gen: Generation, ...extra: string[]): string {
  return [...UNMANAGED, ...extra, `${gen.key.authorizedKey}\n`].join("");
}

let fleet: Fleet;
let device: TestDevice;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
});
afterAll(async () => fleet?.stop());
beforeEach(async () => {
  await device.resetHome(withGen(gen1));
});

describe("healing", () => {
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
    const detection = await detectKey({
      device: device.target(),
      generations: rotated,
      pruneOlder: true,
    });
    expect(detection).toMatchObject({ outcome: "KEY_BASED", generation: 2, prunedLines: 1 });
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
      expect(
        (await readdir(`${device.home}/.ssh`)).filter((f) => f.startsWith(".keyheal-tmp")),
      ).toEqual([]);
    },
  );
});

describe("file faults", () => {
  it("a read-only ~/.ssh gives WRITE_FAILED and changes nothing", async () => {
    const { chmod } = await import("node:fs/promises");
    await chmod(`${device.home}/.ssh`, 0o500);
    const before = await device.readAuthorizedKeys();
    const failure = await failureOf(healDevice({ device: device.target(), generations: rotated }));
    expect(failure).toMatchObject({ code: "WRITE_FAILED", operation: "REPLACE" });
    expect(await device.readAuthorizedKeys()).toEqual(before);
  });

  it("an immutable authorized_keys gives WRITE_FAILED, changes nothing and leaves no temp file", async () => {
    const { run } = await import("../harness/system.ts");
    await run("chattr", ["+i", device.authorizedKeysFile]);
    try {
      const before = await device.readAuthorizedKeys();
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: rotated }),
      );
      expect(failure.code).toBe("WRITE_FAILED");
      expect(await device.readAuthorizedKeys()).toEqual(before);
      expect(
        (await readdir(`${device.home}/.ssh`)).filter((f) => f.startsWith(".keyheal-tmp")),
      ).toEqual([]);
    } finally {
      await run("chattr", ["-i", device.authorizedKeysFile]);
    }
  });

  it("a symlinked authorized_keys is refused", async () => {
    const { rename, symlink } = await import("node:fs/promises");
    await rename(device.authorizedKeysFile, `${device.home}/.ssh/real_keys`);
    await symlink("real_keys", device.authorizedKeysFile);
    const failure = await failureOf(healDevice({ device: device.target(), generations: rotated }));
    expect(failure.code).toBe("WRITE_FAILED");
    expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen1));
  });

  it("a symlinked ~/.ssh is refused", async () => {
    const { rename, symlink } = await import("node:fs/promises");
    await rename(`${device.home}/.ssh`, `${device.home}/ssh-real`);
    await symlink("ssh-real", `${device.home}/.ssh`);
    const failure = await failureOf(healDevice({ device: device.target(), generations: rotated }));
    expect(failure.code).toBe("WRITE_FAILED");
    expect((await device.readAuthorizedKeys()).toString("latin1")).toBe(withGen(gen1));
  });

  it("a group-writable home makes StrictModes refuse the new key: rolled back, SSH_CONFIG_MODIFIED", async () => {
    const { chmod, chown } = await import("node:fs/promises");
    const password = inject("devicePassword");
    // Debian's sshd accepts a home writable by the user's own private group; a shared group is not.
    const { uid } = await (await import("node:fs/promises")).stat(device.home);
    await chown(device.home, uid, 0);
    await chmod(device.home, 0o775);
    const before = await device.readAuthorizedKeys();
    const failure = await failureOf(
      healDevice({
        device: device.target(),
        generations: rotated,
        access: { mode: "password", password },
      }),
    );
    expect(failure).toMatchObject({ code: "SSH_CONFIG_MODIFIED", operation: "VERIFY" });
    expect(await device.readAuthorizedKeys()).toEqual(before);
  });
});
