import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import ssh2 from "ssh2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import type { SecretStore } from "../../../lib/keys/store-types.ts";
import { DynamoKeyStore, GENERATIONS_REUSE_MS } from "../../../lib/store/dynamo-key-store.ts";
import {
  CurrentKeyRetireError,
  KeyGenerationConflictError,
  KeyMaterialMismatchError,
  NotFoundError,
  SecretNotFoundError,
} from "../../../lib/store/errors.ts";
import { FileSecretStore } from "../../../lib/store/file-secret-store.ts";
import { KEY_KIND } from "../../../lib/store/tables.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
let secretsDir: string;
let secrets: FileSecretStore;
let tableName: string;
let store: DynamoKeyStore;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  secretsDir = await mkdtemp(join(tmpdir(), "keyheal-keys-"));
  secrets = new FileSecretStore({ directory: join(secretsDir, "secrets") });
  tableName = (await dynamo.newTables()).keys;
  store = new DynamoKeyStore({ client: dynamo.client, tableName, secrets });
  return () => rm(secretsDir, { recursive: true, force: true });
});

async function rawItem(generation: number) {
  const { Item } = await dynamo.client.send(
    new GetCommand({ TableName: tableName, Key: { kind: KEY_KIND, generation } }),
  );
  return Item;
}

describe("key store", () => {
  it("numbers generations 1, 2, 3; the newest is CURRENT, the former ones PREVIOUS", async () => {
    const keys = [
      generateKeyPair({ comment: "gen-1" }),
      generateKeyPair({ type: "ecdsa", comment: "gen-2" }),
      generateKeyPair({ comment: "gen-3" }),
    ];
    const added = [];
    for (const key of keys) added.push(await store.add(key));
    expect(added.map((r) => r.generation)).toEqual([1, 2, 3]);
    expect(added[1]).toMatchObject({
      algorithm: "ecdsa-sha2-nistp256",
      fingerprint: keys[1]?.fingerprint,
      publicKey: keys[1]?.authorizedKey,
      status: "CURRENT",
    });
    const { items } = await store.list();
    expect(items.map((r) => [r.generation, r.status])).toEqual([
      [3, "CURRENT"],
      [2, "PREVIOUS"],
      [1, "PREVIOUS"],
    ]);
    expect((await store.current())?.generation).toBe(3);
    expect((await store.get(2))?.fingerprint).toBe(keys[1]?.fingerprint);
    expect(await store.get(4)).toBeUndefined();
  });

  it("loads usable generations newest first with their private keys round-tripped", async () => {
    const keys = [
      generateKeyPair({ comment: "one" }),
      generateKeyPair({ type: "rsa", bits: 2048 }),
    ];
    for (const key of keys) await store.add(key);
    const loaded = await store.loadGenerations();
    expect(loaded.map((g) => g.generation)).toEqual([2, 1]);
    for (const [i, original] of [keys[1], keys[0]].entries()) {
      const key = loaded[i]?.key;
      expect(key?.fingerprint).toBe(original?.fingerprint);
      expect(key?.authorizedKey).toBe(original?.authorizedKey);
      // The loaded private key signs what the original public key verifies.
      const signer = ssh2.utils.parseKey(key?.privateKey ?? "");
      const verifier = ssh2.utils.parseKey(original?.authorizedKey ?? "");
      if (signer instanceof Error) throw signer;
      if (verifier instanceof Error) throw verifier;
      const signature = signer.sign(Buffer.from("challenge"));
      expect(verifier.verify(Buffer.from("challenge"), signature)).toBe(true);
    }
  });

  it("keeps private keys out of the table: items hold a secret reference only", async () => {
    const key = generateKeyPair();
    const record = await store.add(key);
    const item = await rawItem(record.generation);
    expect(item).toBeDefined();
    const text = JSON.stringify(item);
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain(key.privateKey.split("\n")[1]);
    expect(item?.secretRef).toBe(record.secretRef);
    expect(record.secretRef).toMatch(/^platform-key\/1\/[0-9A-Z]{26}$/);
    expect(await secrets.get(record.secretRef)).toBe(key.privateKey);
  });

  it("a retired generation is no longer loaded and its private key is deleted", async () => {
    const first = await store.add(generateKeyPair());
    await store.add(generateKeyPair());
    await store.retire(1);
    expect((await store.get(1))?.status).toBe("RETIRED");
    expect((await store.loadGenerations()).map((g) => g.generation)).toEqual([2]);
    await expect(secrets.get(first.secretRef)).rejects.toBeInstanceOf(SecretNotFoundError);
    await store.retire(1); // idempotent
  });

  describe("issue 12: a rotation's list of generations, loaded once", () => {
    /** The store over secrets that count their reads. */
    function counted() {
      const reads = { count: 0 };
      const counting: SecretStore = {
        put: (name, value, options) => secrets.put(name, value, options),
        get: (ref) => {
          reads.count += 1;
          return secrets.get(ref);
        },
        delete: (ref) => secrets.delete(ref),
      };
      let now = Date.now();
      const keys = new DynamoKeyStore({
        client: dynamo.client,
        tableName,
        secrets: counting,
        clock: () => now,
      });
      const advance = (ms: number) => {
        now += ms;
      };
      return { keys, reads, advance };
    }

    it("naming the current generation answers the list loaded before, without reading again", async () => {
      const { keys, reads } = counted();
      await keys.add(generateKeyPair());
      await keys.add(generateKeyPair());
      const first = await keys.loadGenerations({ current: 2 });
      expect(reads.count).toBe(2);
      const again = await keys.loadGenerations({ current: 2 });
      expect(again.map((g) => g.generation)).toEqual([2, 1]);
      expect(again[0]?.key.fingerprint).toBe(first[0]?.key.fingerprint);
      expect(reads.count).toBe(2);
      // Without a named generation (a reconnect's heal), the store is read every time.
      await keys.loadGenerations();
      expect(reads.count).toBe(4);
    });

    it("a new generation, a retired one, another named generation or a minute passed reads again", async () => {
      const { keys, reads, advance } = counted();
      await keys.add(generateKeyPair());
      await keys.add(generateKeyPair());
      await keys.loadGenerations({ current: 2 });
      expect(reads.count).toBe(2);
      await keys.retire(1);
      expect((await keys.loadGenerations({ current: 2 })).map((g) => g.generation)).toEqual([2]);
      expect(reads.count).toBe(3);
      await keys.add(generateKeyPair());
      expect((await keys.loadGenerations({ current: 3 })).map((g) => g.generation)).toEqual([3, 2]);
      expect(reads.count).toBe(5);
      // A list whose current is not the one named is never answered.
      await keys.loadGenerations({ current: 4 });
      expect(reads.count).toBe(7);
      await keys.loadGenerations({ current: 3 });
      expect(reads.count).toBe(7);
      advance(GENERATIONS_REUSE_MS);
      await keys.loadGenerations({ current: 3 });
      expect(reads.count).toBe(9);
    });
  });

  it("refuses to retire the current generation or one that does not exist", async () => {
    await store.add(generateKeyPair());
    await expect(store.retire(1)).rejects.toBeInstanceOf(CurrentKeyRetireError);
    await expect(store.retire(7)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.current())?.generation).toBe(1);
  });

  it("two concurrent rotations cannot both become N+1; the loser's secret is removed", async () => {
    await store.add(generateKeyPair());
    // The loser reads "newest is 1", then stalls while writing its secret until the winner is done.
    let entered: () => void = () => {};
    let release: () => void = () => {};
    const inPut = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stalling: SecretStore = {
      put: async (name, value, options) => {
        entered();
        await gate;
        return secrets.put(name, value, options);
      },
      get: (ref) => secrets.get(ref),
      delete: (ref) => secrets.delete(ref),
    };
    const loser = new DynamoKeyStore({ client: dynamo.client, tableName, secrets: stalling });
    const losing = loser.add(generateKeyPair());
    await inPut;
    const winner = await store.add(generateKeyPair());
    release();
    await expect(losing).rejects.toBeInstanceOf(KeyGenerationConflictError);

    expect(winner.generation).toBe(2);
    const { items } = await store.list();
    expect(items.map((r) => [r.generation, r.status])).toEqual([
      [2, "CURRENT"],
      [1, "PREVIOUS"],
    ]);
    expect(await readdir(join(secretsDir, "secrets"))).toHaveLength(2);
    expect((await store.loadGenerations())[0]?.key.fingerprint).toBe(winner.fingerprint);
  });

  it("lists newest first across pages", async () => {
    for (let i = 0; i < 5; i++) await store.add(generateKeyPair());
    const first = await store.list({ limit: 2 });
    const second = await store.list({ limit: 2, cursor: first.nextCursor });
    const third = await store.list({ limit: 2, cursor: second.nextCursor });
    expect([...first.items, ...second.items, ...third.items].map((r) => r.generation)).toEqual([
      5, 4, 3, 2, 1,
    ]);
  });

  it("refuses a secret that holds another key than its generation's", async () => {
    const record = await store.add(generateKeyPair());
    const swapped: SecretStore = {
      put: (name, value, options) => secrets.put(name, value, options),
      get: async () => generateKeyPair().privateKey,
      delete: (ref) => secrets.delete(ref),
    };
    const tampered = new DynamoKeyStore({ client: dynamo.client, tableName, secrets: swapped });
    await expect(tampered.loadGenerations()).rejects.toBeInstanceOf(KeyMaterialMismatchError);
    expect(record.generation).toBe(1);
  });
});
