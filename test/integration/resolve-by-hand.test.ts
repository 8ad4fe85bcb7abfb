import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { OperationFailedError } from "../../lib/failures/errors.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice } from "../../lib/replace/heal-device.ts";
import { openSession } from "../../lib/ssh/connect.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { OPS_USER, run, userExists } from "../harness/system.ts";

const gen1: Generation = { generation: 1, key: generateKeyPair() };
const gen2: Generation = { generation: 2, key: generateKeyPair() };
const password = inject("devicePassword");

let fleet: Fleet;
let device: TestDevice;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
});
afterAll(async () => fleet?.stop());
beforeEach(async () => {
  await device.resetHome(`${generateKeyPair({ comment: "someone-elses" }).authorizedKey}\n`);
});

async function loginAs(user: string, gen: Generation): Promise<string> {
  const session = await openSession({
    host: device.host,
    port: device.port,
    username: user,
    hostKeyFingerprint: device.hostKeyFingerprint,
    credentials: [
      {
        kind: "publickey",
        label: "probe",
        fingerprint: gen.key.fingerprint,
        privateKey: gen.key.privateKey,
      },
    ],
  });
  try {
    return (await session.exec("id -un")).stdout.toString().trim();
  } finally {
    session.close();
  }
}

describe("Space key (admin password)", () => {
  it("logs in by password and installs the platform key: the device ends key-based", async () => {
    const result = await healDevice({
      device: device.target(),
      generations: [gen2, gen1],
      access: { mode: "password", password },
    });
    expect(result).toMatchObject({
      status: "KEY_BASED",
      generation: 2,
      heldGeneration: null,
      userCreated: false,
    });
    expect(await loginAs(device.user, gen2)).toBe(device.user);
  });

  it("creates a missing admin user through sudo, and the new user ends key-based", async () => {
    const newUser = `kh_new_${randomBytes(3).toString("hex")}`;
    try {
      const result = await healDevice({
        device: device.target({ adminUser: newUser }),
        generations: [gen2],
        access: { mode: "password", password, loginUser: OPS_USER },
      });
      expect(result).toMatchObject({ status: "KEY_BASED", userCreated: true, generation: 2 });
      expect(userExists(newUser)).toBe(true);
      expect(await loginAs(newUser, gen2)).toBe(newUser);
      const { stdout } = await run("stat", [
        "-c",
        "%U %a",
        `/home/${newUser}/.ssh/authorized_keys`,
      ]);
      expect(stdout.trim()).toBe(`${newUser} 600`);
    } finally {
      await run("userdel", ["-r", newUser]).catch(() => {});
    }
  });

  it("a wrong password gives AUTH_REJECTED for the RESOLVE operation", async () => {
    const error = await healDevice({
      device: device.target(),
      generations: [gen2],
      access: { mode: "password", password: "not-the-password" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error).toMatchObject({ code: "AUTH_REJECTED", operation: "RESOLVE" });
  });

  it("an invalid admin user name is refused before any connection", async () => {
    const error = await healDevice({
      device: device.target({ adminUser: "root; rm -rf /" }),
      generations: [gen2],
      access: { mode: "password", password },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "USER_CREATE_FAILED" });
  });
});

describe("custom key", () => {
  it("logs in with the operator's key and installs the platform key", async () => {
    const custom = generateKeyPair({ type: "ecdsa" });
    await device.resetHome(`${custom.authorizedKey}\n`);
    const result = await healDevice({
      device: device.target(),
      generations: [gen2, gen1],
      access: { mode: "custom-key", key: custom },
    });
    expect(result).toMatchObject({ status: "KEY_BASED", generation: 2 });
    expect(await loginAs(device.user, gen2)).toBe(device.user);
    // The operator's own key is not keyheal's to remove.
    expect((await device.readAuthorizedKeys()).toString()).toContain(custom.authorizedKey);
  });

  it("adopts the custom key as the device's credential without writing", async () => {
    const custom = generateKeyPair();
    await device.resetHome(`${custom.authorizedKey}\n`);
    const before = await device.readAuthorizedKeys();
    const result = await healDevice({
      device: device.target(),
      generations: [gen2],
      access: { mode: "custom-key", key: custom, adopt: true },
    });
    expect(result).toMatchObject({ status: "CUSTOM_KEY_BASED", changed: false, handshakes: 1 });
    expect(await device.readAuthorizedKeys()).toEqual(before);
  });
});
