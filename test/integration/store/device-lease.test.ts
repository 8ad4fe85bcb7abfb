import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;
let now: number;
let store: DynamoDeviceStore;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  now = Date.parse("2031-06-01T12:00:00Z");
  const tables = await dynamo.newTables();
  store = new DynamoDeviceStore({
    client: dynamo.client,
    tableName: tables.devices,
    clock: () => now,
  });
  await store.register({ id: "db-1", host: "10.0.0.5", port: 22, adminUser: "admin" });
});

const MINUTE = 60_000;

describe("device lease", () => {
  it("a held lease cannot be acquired by another owner", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
  });

  it("the holder acquiring again succeeds (a retried task is not locked out by itself)", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
  });

  it("an expired lease can be taken by another owner", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    now += MINUTE - 1;
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
    now += 2;
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(true);
    // The former holder lost it: it can neither extend nor release it.
    expect(await store.extendLease("db-1", "run-a", MINUTE)).toBe(false);
    expect(await store.releaseLease("db-1", "run-a")).toBe(false);
  });

  it("only the owner extends the lease, and the extension holds others off", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.extendLease("db-1", "run-b", 10 * MINUTE)).toBe(false);
    now += MINUTE / 2;
    expect(await store.extendLease("db-1", "run-a", MINUTE)).toBe(true);
    now += MINUTE - 1000; // past the first expiry, within the extension
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
  });

  it("only the owner releases the lease; then anyone may take it", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.releaseLease("db-1", "run-b")).toBe(false);
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
    expect(await store.releaseLease("db-1", "run-a")).toBe(true);
    expect(await store.releaseLease("db-1", "run-a")).toBe(false);
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(true);
  });

  it("five concurrent acquires: exactly one wins", async () => {
    const owners = ["e1", "e2", "e3", "e4", "e5"];
    const results = await Promise.all(
      owners.map((owner) => store.acquireLease("db-1", owner, MINUTE)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = owners[results.indexOf(true)] as string;
    expect(await store.releaseLease("db-1", winner)).toBe(true);
  });

  it("no lease on a device that is not registered, and none is created", async () => {
    expect(await store.acquireLease("ghost", "run-a", MINUTE)).toBe(false);
    expect(await store.get("ghost")).toBeUndefined();
  });

  it("the lease leaves the device's status and fields alone", async () => {
    await store.update("db-1", { status: "KEY_CONFLICT", keyGeneration: 1 });
    const before = await store.get("db-1");
    await store.acquireLease("db-1", "run-a", MINUTE);
    await store.releaseLease("db-1", "run-a");
    expect(await store.get("db-1")).toEqual(before);
  });

  it("issue 10.13: a status write fenced by a run that lost the lease is refused and changes nothing", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    now += MINUTE + 1;
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(true);
    await expect(
      store.update("db-1", { status: "KEY_BASED" }, { leaseOwner: "run-a" }),
    ).rejects.toMatchObject({ name: "LeaseLostError", holder: "run-b", owner: "run-a" });
    expect((await store.get("db-1"))?.status).toBe("UNKNOWN");
    await store.update("db-1", { status: "KEY_BASED" }, { leaseOwner: "run-b" });
    expect((await store.get("db-1"))?.status).toBe("KEY_BASED");
    await expect(
      store.update("nope", { status: "KEY_BASED" }, { leaseOwner: "run-b" }),
    ).rejects.toMatchObject({ name: "NotFoundError" });
  });

  it("issue 12: a status write can give the lease back in the same write; applied again, it succeeds; a run without the lease is refused", async () => {
    const installed = { status: "KEY_BASED" as const, keyGeneration: 4 };
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    await store.update("db-1", installed, { leaseOwner: "run-a", release: true });
    expect(await store.get("db-1")).toMatchObject(installed);
    expect(await store.releaseLease("db-1", "run-a")).toBe(false); // already given back
    // A retried step whose answer was lost: the lease is free and the device already as written.
    await store.update("db-1", installed, { leaseOwner: "run-a", release: true });
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(true);
    // Once another run holds it, the same write is refused and changes nothing.
    await expect(
      store.update("db-1", installed, { leaseOwner: "run-a", release: true }),
    ).rejects.toMatchObject({ name: "LeaseLostError", holder: "run-b" });
    // Free, but the device not as this write would leave it: refused too.
    expect(await store.releaseLease("db-1", "run-b")).toBe(true);
    await expect(
      store.update(
        "db-1",
        { status: "KEY_BASED", keyGeneration: 5 },
        { leaseOwner: "run-a", release: true },
      ),
    ).rejects.toMatchObject({ name: "LeaseLostError", owner: "run-a" });
    expect(await store.get("db-1")).toMatchObject(installed);
  });

  it("issue 10.14: a recheck is remembered only while another run holds the lease, and taken once on release", async () => {
    expect(await store.requestRecheck("db-1", "run-b")).toBe(false); // free: take it instead
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.requestRecheck("db-1", "run-a")).toBe(false); // its own lease
    expect(await store.requestRecheck("db-1", "run-b")).toBe(true);
    expect(await store.releaseLeaseTakingRecheck("db-1", "run-b")).toEqual({
      released: false,
      recheck: false,
    });
    expect(await store.releaseLeaseTakingRecheck("db-1", "run-a")).toEqual({
      released: true,
      recheck: true,
    });
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    expect(await store.releaseLeaseTakingRecheck("db-1", "run-a")).toEqual({
      released: true,
      recheck: false,
    });
  });

  it("issue 12.3: taking the lease sets RESOLVING and keeps the status before it, in one write", async () => {
    await store.update("db-1", { status: "KEY_CONFLICT", keyGeneration: 1 });
    const taken = await store.takeLease("db-1", "run-a", MINUTE);
    expect(taken).toMatchObject({
      id: "db-1",
      status: "RESOLVING",
      statusBeforeRun: "KEY_CONFLICT",
      keyGeneration: 1,
    });
    // Its own lease again (a retried task): the status from before the run is kept.
    expect(await store.takeLease("db-1", "run-a", MINUTE)).toMatchObject({
      status: "RESOLVING",
      statusBeforeRun: "KEY_CONFLICT",
    });
    expect(await store.takeLease("db-1", "run-b", MINUTE)).toBeUndefined();
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
    // A run that never ended left it RESOLVING: the next run keeps the status from before that.
    now += MINUTE + 1;
    expect(await store.takeLease("db-1", "run-b", MINUTE)).toMatchObject({
      status: "RESOLVING",
      statusBeforeRun: "KEY_CONFLICT",
    });
    expect(await store.takeLease("ghost", "run-a", MINUTE)).toBeUndefined();
    expect(await store.get("ghost")).toBeUndefined();
  });

  it("issue 12.3: holding the lease extends it and answers the device; a lost lease answers nothing", async () => {
    expect(await store.acquireLease("db-1", "run-a", MINUTE)).toBe(true);
    now += MINUTE / 2;
    expect(await store.holdLease("db-1", "run-a", MINUTE)).toMatchObject({
      id: "db-1",
      host: "10.0.0.5",
    });
    now += MINUTE - 1000; // past the first expiry, within the extension
    expect(await store.acquireLease("db-1", "run-b", MINUTE)).toBe(false);
    expect(await store.holdLease("db-1", "run-b", MINUTE)).toBeUndefined();
    expect(await store.holdLease("ghost", "run-a", MINUTE)).toBeUndefined();
  });
});
