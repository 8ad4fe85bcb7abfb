import { chmod, chown, readdir, stat } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice } from "../../lib/replace/heal-device.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { failureOf } from "../harness/login.ts";
import { protocolScenarios } from "../harness/protocol-scenarios.ts";
import { run } from "../harness/system.ts";

let fleet: Fleet;
let device: TestDevice;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
});
afterAll(async () => fleet?.stop());

// The protocol's scenarios on real OpenSSH sshd, for interop; the same list runs without root on
// the in-process ssh2 device in test/unit/replace/heal-protocol.test.ts.
describe("on real sshd", () => {
  protocolScenarios(() => device);
});

// What only a real sshd and a device user other than the test's own can show.
describe("file faults", () => {
  const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "keyheal-gen-1" }) };
  const gen2: Generation = { generation: 2, key: generateKeyPair({ comment: "keyheal-gen-2" }) };
  const rotated = [gen2, gen1];
  const content = `# kept\n${gen1.key.authorizedKey}\n`;
  beforeEach(() => device.resetHome(content));

  it("a read-only ~/.ssh gives WRITE_FAILED and changes nothing", async () => {
    await chmod(`${device.home}/.ssh`, 0o500);
    const before = await device.readAuthorizedKeys();
    const failure = await failureOf(healDevice({ device: device.target(), generations: rotated }));
    expect(failure).toMatchObject({ code: "WRITE_FAILED", operation: "REPLACE" });
    expect(await device.readAuthorizedKeys()).toEqual(before);
  });

  it("an immutable authorized_keys gives WRITE_FAILED, changes nothing and leaves no temp file", async () => {
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

  it("a group-writable home makes StrictModes refuse the new key: rolled back, SSH_CONFIG_MODIFIED", async () => {
    const password = inject("devicePassword");
    // Debian's sshd accepts a home writable by the user's own private group; a shared group is not.
    const { uid } = await stat(device.home);
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
