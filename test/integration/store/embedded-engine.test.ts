import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import { createLocalDocumentClient, startEmbeddedDynamo } from "../../../lib/store/embedded.ts";
import { createTables, tableNames } from "../../../lib/store/tables.ts";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-embedded-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Local mode's engine, whatever KEYHEAL_DYNAMODB_ENDPOINT says: this is about dynalite itself. */
async function withEngine<T>(fn: (store: DynamoDeviceStore) => Promise<T>): Promise<T> {
  const engine = await startEmbeddedDynamo({ path: join(dataDir, "db") });
  const client = createLocalDocumentClient(engine.endpoint);
  try {
    const names = tableNames("keyheal");
    await createTables(client, names); // idempotent: the second start finds them
    return await fn(new DynamoDeviceStore({ client, tableName: names.devices }));
  } finally {
    client.destroy();
    await engine.close();
  }
}

describe("embedded engine", () => {
  it("listens on loopback only, on a free port", async () => {
    const engine = await startEmbeddedDynamo();
    try {
      expect(engine.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(engine.port).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });

  it("keeps data on disk across restarts in the data directory", async () => {
    await withEngine(async (store) => {
      await store.register({ id: "edge-1", host: "10.1.0.1", port: 22, adminUser: "ops" });
      await store.update("edge-1", { status: "KEY_BASED", keyGeneration: 4 });
    });
    const device = await withEngine((store) => store.get("edge-1"));
    expect(device).toMatchObject({ id: "edge-1", status: "KEY_BASED", keyGeneration: 4 });
  });
});
