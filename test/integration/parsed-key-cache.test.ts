import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { ParsedKeyCache } from "../../lib/keys/parsed-key-cache.ts";
import type { GenerateKeyPairOptions } from "../../lib/keys/types.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";

let fleet: Fleet;
let device: TestDevice;
const pairs = (
  [{ type: "ed25519" }, { type: "rsa", bits: 2048 }, { type: "ecdsa", curve: "p384" }] as const
).map((options: GenerateKeyPairOptions) => generateKeyPair(options));

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
  await device.writeAuthorizedKeys(pairs.map((p) => `${p.authorizedKey}\n`).join(""));
});
afterAll(async () => {
  await fleet?.stop();
});

/** Logs in with ssh2's own client and the given parsed key; true when sshd accepts it. */
function logsIn(key: ReturnType<ParsedKeyCache["get"]>): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new Client();
    let offered = false;
    client.once("ready", () => {
      client.end();
      resolve(true);
    });
    client.once("error", () => resolve(false));
    client.connect({
      host: device.host,
      port: device.port,
      username: device.user,
      // As lib/ssh/session.ts offers keys: through the auth handler, which takes a parsed key.
      authHandler: (_methods, _partial, next) => {
        if (offered) return next(false as never);
        offered = true;
        return next({ type: "publickey", username: device.user, key });
      },
      readyTimeout: 10_000,
    });
  });
}

describe("parsed key cache on real sshd", () => {
  it("each cached key type logs in, connection after connection, parsed once", async () => {
    const cache = new ParsedKeyCache();
    for (const pair of pairs) {
      const key = cache.get(pair.fingerprint, pair.privateKey);
      expect(await logsIn(key)).toBe(true);
      expect(await logsIn(cache.get(pair.fingerprint, pair.privateKey))).toBe(true);
    }
    expect(cache.size).toBe(pairs.length);
    const accepted = (await device.sshdLog())
      .split("\n")
      .filter((line) => line.includes("Accepted publickey"));
    expect(accepted).toHaveLength(2 * pairs.length);
  });

  it("a key sshd does not hold is refused, cached or not", async () => {
    const stranger = generateKeyPair();
    expect(await logsIn(new ParsedKeyCache().get(stranger.fingerprint, stranger.privateKey))).toBe(
      false,
    );
  });
});
