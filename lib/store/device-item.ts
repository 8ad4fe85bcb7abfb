import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Device } from "../devices/types.ts";
import { type Clock, type Item, recordOf } from "./dynamo-util.ts";

/** The devices table as the device store's parts reach it: client, table name and clock. */
export interface DeviceTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  now: Clock;
}

const DEVICE_FIELDS = [
  "id",
  "host",
  "port",
  "adminUser",
  "instanceId",
  "region",
  "hostKeyFingerprint",
  "authorizedKeysPath",
  "status",
  "keyProvenAt",
  "statusBeforeRun",
  "createdAt",
  "updatedAt",
  "lastCheckedAt",
] as const;

/** A device item as the store hands it out: absent attributes left out, nulls kept. */
export function toDevice(item: Item): Device {
  return recordOf<Device>(item, DEVICE_FIELDS, ["keyGeneration", "lastFailureCause"]);
}
