import { afterAll, beforeAll, expect, it } from "vitest";
import { recoverInterruptedRuns } from "../../../lib/local/recover-runs.ts";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import { DynamoRunStore } from "../../../lib/store/dynamo-run-store.ts";
import type { RunRecord } from "../../../lib/store/runs.ts";
import { type DynamoHarness, startDynamo } from "../../harness/dynamo.ts";

let dynamo: DynamoHarness;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

const running = (id: string, workflow: string, deviceId: string | null): RunRecord => ({
  id,
  workflow,
  deviceId,
  status: "RUNNING",
  startedAt: new Date().toISOString(),
  endedAt: null,
  steps: [],
});

it("releases every lease a cut run held, whatever its device's status is by now, and no other", async () => {
  const tables = await dynamo.newTables();
  const devices = new DynamoDeviceStore({ client: dynamo.client, tableName: tables.devices });
  const runs = new DynamoRunStore({ client: dynamo.client, tableName: tables.runs });
  for (const id of ["healed", "resolving", "rotated", "rotating", "busy"]) {
    await devices.register({ id, host: "127.0.0.1", port: 22, adminUser: "ops" });
  }
  const leased = async (id: string, owner: string, status: "KEY_BASED" | "RESOLVING") => {
    expect(await devices.acquireLease(id, owner, 600_000)).toBe(true);
    await devices.update(id, { status }, { leaseOwner: owner });
  };
  // A reconnect cut after MarkHealed, another before it; a rotation cut with one device marked
  // and one not; a live run of another runtime's making that is not cut.
  await leased("healed", "reconnect-healed", "KEY_BASED");
  await leased("resolving", "reconnect-resolving", "RESOLVING");
  await leased("rotated", "rotate-1", "KEY_BASED");
  await leased("rotating", "rotate-1", "RESOLVING");
  await leased("busy", "reconnect-busy", "RESOLVING");
  await runs.put(running("reconnect-healed", "reconnect", "healed"));
  await runs.put(running("reconnect-resolving", "reconnect", "resolving"));
  await runs.put(running("rotate-1", "rotate", null));
  await runs.put({ ...running("reconnect-busy", "reconnect", "busy"), status: "SUCCEEDED" });

  const recovered = await recoverInterruptedRuns(runs, devices);

  expect(recovered.interrupted.sort()).toEqual([
    "reconnect-healed",
    "reconnect-resolving",
    "rotate-1",
  ]);
  expect(recovered.devices.sort()).toEqual(["healed", "resolving", "rotated", "rotating"]);
  for (const id of recovered.devices) {
    // Free: another run can take it at once.
    expect(await devices.acquireLease(id, "next-run", 600_000)).toBe(true);
  }
  expect(await devices.acquireLease("busy", "next-run", 600_000)).toBe(false);
  expect((await runs.get("rotate-1"))?.status).toBe("FAILED");
});
