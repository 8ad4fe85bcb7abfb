import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OperationFailedError } from "../../lib/failures/errors.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice } from "../../lib/replace/heal-device.ts";
import { openSession } from "../../lib/ssh/connect.ts";
import { HostKeyNotPinnedError } from "../../lib/ssh/errors.ts";
import { type Fleet, freePort, startFleet, type TestDevice } from "../harness/fleet.ts";

const gen1: Generation = { generation: 1, key: generateKeyPair() };
const gen2: Generation = { generation: 2, key: generateKeyPair() };

async function failureOf(promise: Promise<unknown>): Promise<OperationFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationFailedError);
  return error as OperationFailedError;
}

/** A port that accepts TCP connections and never says a word. */
async function silentPort(): Promise<{ port: number; server: Server; accepted: () => number }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { port, server, accepted: () => sockets.length };
}

let fleet: Fleet;
let device: TestDevice;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
});
afterAll(async () => fleet?.stop());
beforeEach(async () => {
  await device.resetHome(`${gen1.key.authorizedKey}\n`);
});

describe("connection faults", () => {
  it("a changed host key gives HOST_KEY_MISMATCH and sshd sees no authentication attempt", async () => {
    const pinned = device.target();
    await device.stop();
    await device.newHostKey();
    await device.start();
    await device.clearLog();

    const failure = await failureOf(healDevice({ device: pinned, generations: [gen2, gen1] }));
    expect(failure).toMatchObject({ code: "HOST_KEY_MISMATCH", operation: "DETECT" });
    await new Promise((r) => setTimeout(r, 200));
    const log = await device.sshdLog();
    expect(log).toMatch(/(Disconnected from|Connection closed by) 127\.0\.0\.1/);
    expect(log).not.toMatch(/userauth-request|Accepted|Failed (publickey|password)/);
  });

  it("a stopped sshd gives CONNECTION_REFUSED", async () => {
    await device.stop();
    try {
      const failure = await failureOf(
        healDevice({ device: device.target(), generations: [gen2, gen1] }),
      );
      expect(failure.code).toBe("CONNECTION_REFUSED");
    } finally {
      await device.start();
    }
  });

  it("a port that accepts and never speaks gives TIMEOUT within the handshake timeout", async () => {
    const silent = await silentPort();
    try {
      const started = Date.now();
      const failure = await failureOf(
        healDevice({
          device: device.target({ port: silent.port }),
          generations: [gen2, gen1],
          timeouts: { handshakeMs: 1000 },
        }),
      );
      expect(failure.code).toBe("TIMEOUT");
      expect(Date.now() - started).toBeLessThan(5000);
      expect(silent.accepted()).toBe(1);
    } finally {
      await new Promise((r) => silent.server.close(r));
    }
  });

  it("an overall deadline cuts a stalled conversation", async () => {
    const silent = await silentPort();
    try {
      const failure = await failureOf(
        healDevice({
          device: device.target({ port: silent.port }),
          generations: [gen2, gen1],
          signal: AbortSignal.timeout(300),
        }),
      );
      expect(failure.code).toBe("TIMEOUT");
    } finally {
      await new Promise((r) => silent.server.close(r));
    }
  });

  it("a tampered authorized_keys (no known key left) gives AUTH_REJECTED", async () => {
    await device.resetHome(`${generateKeyPair().authorizedKey}\n`);
    const failure = await failureOf(
      healDevice({ device: device.target(), generations: [gen2, gen1] }),
    );
    expect(failure).toMatchObject({ code: "AUTH_REJECTED", operation: "DETECT" });
  });

  it("a password is never sent to a host whose key is not pinned", async () => {
    const silent = await silentPort();
    try {
      await expect(
        openSession({
          host: "127.0.0.1",
          port: silent.port,
          username: device.user,
          credentials: [{ kind: "password", label: "password", password: "never-sent" }],
        }),
      ).rejects.toBeInstanceOf(HostKeyNotPinnedError);
      expect(silent.accepted()).toBe(0);
    } finally {
      await new Promise((r) => silent.server.close(r));
    }
  });
});
