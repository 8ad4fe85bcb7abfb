import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthStatus, Device, DeviceRegistration } from "../../../lib/devices/types.ts";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import { InvalidCursorError, NotFoundError } from "../../../lib/store/errors.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

let tableName = "";

/** A store over its own empty table (remembered in `tableName`). */
async function freshStore() {
  tableName = (await dynamo.newTables()).devices;
  return new DynamoDeviceStore({ client: dynamo.client, tableName });
}

function registration(id: string, extra: Partial<DeviceRegistration> = {}): DeviceRegistration {
  return { id, host: `${id}.example.internal`, port: 22, adminUser: "admin", ...extra };
}

async function allPages(store: DynamoDeviceStore, status: AuthStatus | undefined, limit: number) {
  const pages: Device[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...(status ? { status } : {}), limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

describe("device store", () => {
  it("registers a new device as UNKNOWN with no generation", async () => {
    const store = await freshStore();
    const device = await store.register(registration("web-1", { instanceId: "i-0abc" }));
    expect(device).toMatchObject({
      id: "web-1",
      host: "web-1.example.internal",
      port: 22,
      adminUser: "admin",
      instanceId: "i-0abc",
      status: "UNKNOWN",
      keyGeneration: null,
      lastFailureCause: null,
    });
    expect(device.createdAt).toBe(device.updatedAt);
    expect(await store.get("web-1")).toEqual(device);
  });

  it("re-registering keeps status, generation, creation time and the pinned host key", async () => {
    const store = await freshStore();
    const first = await store.register(registration("web-2", { region: "eu-west-1" }));
    await store.update("web-2", {
      status: "KEY_BASED",
      keyGeneration: 3,
      hostKeyFingerprint: "SHA256:pinned",
      lastFailureCause: "TIMEOUT",
    });
    const again = await store.register(registration("web-2", { host: "10.0.0.9", port: 2222 }));
    expect(again).toMatchObject({
      host: "10.0.0.9",
      port: 2222,
      status: "KEY_BASED",
      keyGeneration: 3,
      hostKeyFingerprint: "SHA256:pinned",
      lastFailureCause: "TIMEOUT",
      createdAt: first.createdAt,
    });
    // Address fields follow the registration: the region it no longer names is gone.
    expect(again.region).toBeUndefined();
  });

  it("update of an unknown device is a NotFoundError and creates nothing", async () => {
    const store = await freshStore();
    await expect(store.update("ghost", { status: "KEY_BASED" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await store.get("ghost")).toBeUndefined();
  });

  it("remove reports whether the device existed", async () => {
    const store = await freshStore();
    await store.register(registration("gone"));
    expect(await store.remove("gone")).toBe(true);
    expect(await store.remove("gone")).toBe(false);
    expect(await store.get("gone")).toBeUndefined();
  });

  it("lists by status through the index, page by page with cursors, each device once", async () => {
    const store = await freshStore();
    const conflicts = Array.from({ length: 7 }, (_, i) => `conflict-${i}`);
    for (const id of conflicts) {
      await store.register(registration(id));
      await store.update(id, { status: "KEY_CONFLICT" });
    }
    for (const id of ["ok-1", "ok-2", "ok-3"]) {
      await store.register(registration(id));
      await store.update(id, { status: "KEY_BASED" });
    }
    const pages = await allPages(store, "KEY_CONFLICT", 3);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const ids = pages.flat().map((d) => d.id);
    expect(ids).toEqual([...conflicts].sort());
    expect(pages.flat().every((d) => d.status === "KEY_CONFLICT")).toBe(true);

    const all = (await allPages(store, undefined, 4)).flat().map((d) => d.id);
    expect(all.sort()).toEqual([...conflicts, "ok-1", "ok-2", "ok-3"].sort());
  });

  it("counts devices by status on the index, every status present, zeros included", async () => {
    const store = await freshStore();
    for (const [id, status] of [
      ["a", "KEY_CONFLICT"],
      ["b", "KEY_CONFLICT"],
      ["c", "UNREACHABLE"],
    ] as const) {
      await store.register(registration(id));
      await store.update(id, { status });
    }
    await store.register(registration("d"));
    const counts = await store.countByStatus();
    expect(counts).toMatchObject({ KEY_CONFLICT: 2, UNREACHABLE: 1, UNKNOWN: 1, KEY_BASED: 0 });
    expect(Object.keys(counts)).toHaveLength(8);
  });

  it("refuses a tampered cursor and a cursor from another status's listing", async () => {
    const store = await freshStore();
    for (const id of ["a", "b", "c"]) await store.register(registration(id));
    const { nextCursor } = await store.list({ status: "UNKNOWN", limit: 1 });
    expect(nextCursor).toBeDefined();
    await expect(store.list({ status: "KEY_BASED", cursor: nextCursor })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(store.list({ status: "UNKNOWN", cursor: "not-a-cursor!" })).rejects.toThrow(
      "cursor is invalid or expired; restart the listing without it",
    );
    await expect(
      store.list({ cursor: Buffer.from('{"id":1,"x":2}').toString("base64url") }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("keeps lease attributes out of the device it returns", async () => {
    const store = await freshStore();
    await store.register(registration("leased"));
    expect(await store.acquireLease("leased", "run-1", 60_000)).toBe(true);
    const { Item } = await dynamo.client.send(
      new GetCommand({ TableName: tableName, Key: { id: "leased" } }),
    );
    expect(Item).toMatchObject({ leaseOwner: "run-1" });
    const device = await store.get("leased");
    expect(device).not.toHaveProperty("leaseOwner");
    expect(device).not.toHaveProperty("leaseExpiresAt");
  });
});
