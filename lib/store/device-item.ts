import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AuthStatus, Device } from "../devices/types.ts";
import type { Cause } from "../failures/causes.ts";
import { type Clock, compact, type Item } from "./dynamo-util.ts";

/** The devices table as the device store's parts reach it: client, table name and clock. */
export interface DeviceTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  now: Clock;
}

/** A device item as the store hands it out: absent attributes left out, nulls kept. */
export function toDevice(item: Item): Device {
  return compact({
    id: item.id as string,
    host: item.host as string,
    port: item.port as number,
    adminUser: item.adminUser as string,
    instanceId: item.instanceId as string | undefined,
    region: item.region as string | undefined,
    hostKeyFingerprint: item.hostKeyFingerprint as string | undefined,
    authorizedKeysPath: item.authorizedKeysPath as string | undefined,
    status: item.status as AuthStatus,
    keyGeneration: (item.keyGeneration as number | null | undefined) ?? null,
    keyProvenAt: item.keyProvenAt as string | undefined,
    statusBeforeRun: item.statusBeforeRun as AuthStatus | undefined,
    lastFailureCause: (item.lastFailureCause as Cause | null | undefined) ?? null,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    lastCheckedAt: item.lastCheckedAt as string | undefined,
  });
}
