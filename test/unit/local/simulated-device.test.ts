import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationFailedError } from "../../../lib/failures/errors.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { SimulatedDevice } from "../../../lib/local/simulated-device.ts";
import { detectKey } from "../../../lib/replace/detect-conflict.ts";
import {
  type DeviceTarget,
  type Generation,
  healDevice,
} from "../../../lib/replace/heal-device.ts";

const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "gen1" }) };
const gen2: Generation = { generation: 2, key: generateKeyPair({ comment: "gen2" }) };
const fast = { connectMs: 2000, handshakeMs: 5000, commandMs: 5000 };

async function failureOf(promise: Promise<unknown>): Promise<OperationFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationFailedError);
  return error as OperationFailedError;
}

describe("SimulatedDevice", () => {
  let device: SimulatedDevice;
  let target: DeviceTarget;

  beforeAll(async () => {
    device = await SimulatedDevice.create(`# kept\n${gen1.key.authorizedKey}\n`);
    target = {
      id: "sim-1",
      host: device.host,
      port: device.port,
      adminUser: device.user,
      hostKeyFingerprint: device.hostKeyFingerprint,
      authorizedKeysPath: device.authorizedKeysFile,
    };
  });
  afterAll(() => device.destroy());

  it("looks like a sandbox device", () => {
    expect(device.host).toBe("127.0.0.1");
    expect(device.port).toBeGreaterThan(0);
    expect(device.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(device.authorizedKeysFile.startsWith(device.dir)).toBe(true);
  });

  it("heals by the real replacement protocol: gen1 → gen2, over /bin/sh in its home", async () => {
    const result = await healDevice({
      device: target,
      generations: [gen2, gen1],
      timeouts: fast,
    });
    expect(result).toMatchObject({
      status: "KEY_BASED",
      heldGeneration: 1,
      generation: 2,
      changed: true,
      prunedLines: 1,
      hostKeyFingerprint: device.hostKeyFingerprint,
    });
    expect(await device.readAuthorizedKeys()).toBe(`# kept\n${gen2.key.authorizedKey}\n`);
    const detected = await detectKey({ device: target, generations: [gen2, gen1] });
    expect(detected).toMatchObject({ outcome: "KEY_BASED", generation: 2 });
  });

  it("refuses a key that is not in authorized_keys", async () => {
    const stranger: Generation = { generation: 3, key: generateKeyPair() };
    const failure = await failureOf(detectKey({ device: target, generations: [stranger] }));
    expect(failure.code).toBe("AUTH_REJECTED");
  });

  it("refuses a listed key for another user", async () => {
    const failure = await failureOf(
      detectKey({ device: { ...target, adminUser: "not-the-user" }, generations: [gen2] }),
    );
    expect(failure.code).toBe("AUTH_REJECTED");
  });

  it("refuses an interactive shell", async () => {
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve).once("error", reject);
      client.connect({
        host: device.host,
        port: device.port,
        username: device.user,
        privateKey: gen2.key.privateKey,
      });
    });
    try {
      const error = await new Promise<unknown>((resolve) => client.shell((err) => resolve(err)));
      expect(error).toBeInstanceOf(Error);
    } finally {
      client.end();
    }
  });

  it("a connection cut mid-command takes every process the command started with it", async () => {
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve).once("error", reject);
      client.connect({
        host: device.host,
        port: device.port,
        username: device.user,
        privateKey: gen2.key.privateKey,
      });
    });
    // A background process of the command's own, which would outlive a kill of the shell alone.
    const pid = await new Promise<number>((resolve, reject) => {
      client.exec("sleep 30 & echo $!; wait", (error, channel) => {
        if (error) return reject(error);
        channel.once("data", (data: Buffer) => resolve(Number(data.toString().trim())));
      });
    });
    expect(pid).toBeGreaterThan(0);
    client.destroy();
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = Date.now() + 5000;
    while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  });

  it("refuses connections once stopped, and serves again on the same port", async () => {
    const port = device.port;
    await device.stop();
    const failure = await failureOf(detectKey({ device: target, generations: [gen2] }));
    expect(failure.code).toBe("CONNECTION_REFUSED");
    await device.start();
    expect(device.port).toBe(port);
    const detected = await detectKey({ device: target, generations: [gen2] });
    expect(detected.generation).toBe(2);
  });
});
