// The lease on a device item (`leaseOwner`, `leaseExpiresAt` in epoch ms, `pendingRecheck`),
// taken and given back with single-item conditional writes only: each answers false when its
// condition does not hold.
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Device } from "../devices/types.ts";
import { type DeviceTable, toDevice } from "./device-item.ts";
import { isConditionalCheckFailed } from "./dynamo-util.ts";

/**
 * Takes the lease when nobody holds it, when the held one has expired, or when `owner` already
 * holds it (so a retried task of the same run is not locked out by its own first attempt).
 * False for an unknown device.
 */
export function acquireLease(
  table: DeviceTable,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const now = table.now();
  return conditionalLeaseWrite(
    table,
    id,
    "SET #owner = :owner, #expires = :expires",
    "attribute_exists(#id) AND (attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner)",
    { "#id": "id", "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
    { ":owner": owner, ":expires": now + ttlMs, ":now": now },
  );
}

/** The condition under which `owner` may take the lease: free, expired, or its own. */
const LEASE_FREE =
  "attribute_exists(#id) AND (attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner)";

/**
 * Takes the lease as {@link acquireLease} does and marks the device RESOLVING in the same write,
 * keeping the status from before the run in `statusBeforeRun`: one conditional update where a
 * read, the lease and the status were three calls (bench/RESULTS.md). A device already RESOLVING
 * (left so by a run that never ended) keeps the `statusBeforeRun` it has: a second write, on
 * that rare path only. Undefined when the lease is held by another run or the device is unknown.
 */
export async function takeLease(
  table: DeviceTable,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<Device | undefined> {
  const now = table.now();
  const names = {
    "#id": "id",
    "#owner": "leaseOwner",
    "#expires": "leaseExpiresAt",
    "#status": "status",
    "#updatedAt": "updatedAt",
  };
  const values = {
    ":owner": owner,
    ":expires": now + ttlMs,
    ":now": now,
    ":resolving": "RESOLVING",
    ":updatedAt": new Date(now).toISOString(),
  };
  const taken =
    (await conditionalLeaseUpdate(
      table,
      id,
      "SET #owner = :owner, #expires = :expires, #before = #status, #status = :resolving, #updatedAt = :updatedAt",
      `${LEASE_FREE} AND #status <> :resolving`,
      { ...names, "#before": "statusBeforeRun" },
      values,
    )) ??
    (await conditionalLeaseUpdate(
      table,
      id,
      "SET #owner = :owner, #expires = :expires, #updatedAt = :updatedAt",
      `${LEASE_FREE} AND #status = :resolving`,
      names,
      values,
    ));
  return taken === undefined ? undefined : toDevice(taken);
}

export async function extendLease(
  table: DeviceTable,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  return (await holdLease(table, id, owner, ttlMs)) !== undefined;
}

/**
 * Extends `owner`'s lease and answers the device as it now is, in one conditional update: a
 * step that works on the device needs both (lib/workflows/tasks/lease.ts). Undefined when
 * `owner` does not hold the lease.
 */
export async function holdLease(
  table: DeviceTable,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<Device | undefined> {
  const item = await conditionalLeaseUpdate(
    table,
    id,
    "SET #expires = :expires",
    "#owner = :owner",
    { "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
    { ":owner": owner, ":expires": table.now() + ttlMs },
  );
  return item === undefined ? undefined : toDevice(item);
}

export function releaseLease(table: DeviceTable, id: string, owner: string): Promise<boolean> {
  return conditionalLeaseWrite(
    table,
    id,
    "REMOVE #owner, #expires",
    "#owner = :owner",
    { "#owner": "leaseOwner", "#expires": "leaseExpiresAt" },
    { ":owner": owner },
  );
}

/**
 * Remembers that a check was asked for while another run than `asker` holds an unexpired lease.
 * False when the lease is free (the asker should take it instead).
 */
export function requestRecheck(table: DeviceTable, id: string, asker: string): Promise<boolean> {
  return conditionalLeaseWrite(
    table,
    id,
    "SET #recheck = :true",
    "attribute_exists(#owner) AND #owner <> :asker AND #expires >= :now",
    { "#owner": "leaseOwner", "#expires": "leaseExpiresAt", "#recheck": "pendingRecheck" },
    { ":asker": asker, ":now": table.now(), ":true": true },
  );
}

/** Gives the lease back and says, in the same write, whether a recheck was asked for meanwhile. */
export async function releaseLeaseTakingRecheck(
  table: DeviceTable,
  id: string,
  owner: string,
): Promise<{ released: boolean; recheck: boolean }> {
  try {
    const { Attributes } = await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { id },
        UpdateExpression: "REMOVE #owner, #expires, #recheck",
        ConditionExpression: "#owner = :owner",
        ExpressionAttributeNames: {
          "#owner": "leaseOwner",
          "#expires": "leaseExpiresAt",
          "#recheck": "pendingRecheck",
        },
        ExpressionAttributeValues: { ":owner": owner },
        ReturnValues: "ALL_OLD",
      }),
    );
    return { released: true, recheck: Attributes?.pendingRecheck === true };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return { released: false, recheck: false };
    throw error;
  }
}

/** A conditional update: whether its condition held. */
async function conditionalLeaseWrite(
  table: DeviceTable,
  id: string,
  updateExpression: string,
  condition: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Promise<boolean> {
  const after = await conditionalLeaseUpdate(table, id, updateExpression, condition, names, values);
  return after !== undefined;
}

/** A conditional update answering the item as it is after it; undefined when the condition failed. */
async function conditionalLeaseUpdate(
  table: DeviceTable,
  id: string,
  updateExpression: string,
  condition: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { Attributes } = await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { id },
        UpdateExpression: updateExpression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes ?? {};
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}
