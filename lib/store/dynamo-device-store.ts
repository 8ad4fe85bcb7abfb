import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  AuthStatus,
  Device,
  DeviceListQuery,
  DeviceRegistration,
  DeviceStatusUpdate,
  DeviceStore,
  DeviceWriteFence,
  Page,
} from "../devices/types.ts";
import { type DeviceTable, toDevice } from "./device-item.ts";
import {
  acquireLease,
  extendLease,
  holdLease,
  releaseLease,
  releaseLeaseTakingRecheck,
  requestRecheck,
  takeLease,
} from "./device-lease.ts";
import { countDevicesByStatus, listDevices } from "./device-listing.ts";
import { searchKeys } from "./device-search.ts";
import { type Clock, isConditionalCheckFailed, UpdateBuilder } from "./dynamo-util.ts";
import { LeaseLostError, NotFoundError } from "./errors.ts";

export { withSearchKeys } from "./device-search.ts";

export interface DynamoDeviceStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

/**
 * {@link DeviceStore} over one DynamoDB table keyed by device `id`. This file holds the item's
 * writes (registration, status transitions, removal); listings and counts are in
 * device-listing.ts, search by id, host or admin user in device-search.ts, the lease on the item
 * in device-lease.ts.
 */
export class DynamoDeviceStore implements DeviceStore {
  private readonly table: DeviceTable;

  constructor(options: DynamoDeviceStoreOptions) {
    this.table = {
      client: options.client,
      tableName: options.tableName,
      now: options.clock ?? Date.now,
    };
  }

  /**
   * Creates the device as UNKNOWN, or updates an existing one's address fields while keeping its
   * status, key generation and history. `instanceId`, `region` and `authorizedKeysPath` follow
   * the registration (absent → removed); a pinned `hostKeyFingerprint` is kept when the
   * registration gives none, since the pin may have been learnt on first contact.
   */
  async register(input: DeviceRegistration): Promise<Device> {
    const now = new Date(this.table.now()).toISOString();
    const update = new UpdateBuilder()
      .set({
        host: input.host,
        port: input.port,
        adminUser: input.adminUser,
        hostKeyFingerprint: input.hostKeyFingerprint,
        ...searchKeys(input),
        updatedAt: now,
      })
      .setIfMissing({
        status: "UNKNOWN" satisfies AuthStatus,
        keyGeneration: null,
        lastFailureCause: null,
        createdAt: now,
      });
    for (const name of ["instanceId", "region", "authorizedKeysPath"] as const) {
      const value = input[name];
      if (value === undefined) update.remove(name);
      else update.set({ [name]: value });
    }
    const { Attributes } = await this.table.client.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: { id: input.id },
        ...update.build(),
        ReturnValues: "ALL_NEW",
      }),
    );
    return toDevice(Attributes ?? {});
  }

  async get(id: string): Promise<Device | undefined> {
    const { Item } = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { id } }),
    );
    return Item ? toDevice(Item) : undefined;
  }

  list(query: DeviceListQuery = {}): Promise<Page<Device>> {
    return listDevices(this.table, query);
  }

  countByStatus(): Promise<Record<AuthStatus, number>> {
    return countDevicesByStatus(this.table);
  }

  /**
   * @throws {NotFoundError} no device with this id.
   * @throws {LeaseLostError} `fence` names a run that does not hold the lease.
   */
  async update(id: string, update: DeviceStatusUpdate, fence?: DeviceWriteFence): Promise<Device> {
    const builder = new UpdateBuilder().set({
      status: update.status,
      keyGeneration: update.keyGeneration,
      keyProvenAt: update.keyProvenAt,
      statusBeforeRun: update.statusBeforeRun,
      hostKeyFingerprint: update.hostKeyFingerprint,
      lastFailureCause: update.lastFailureCause,
      lastCheckedAt: update.lastCheckedAt,
      updatedAt: new Date(this.table.now()).toISOString(),
    });
    let condition = `attribute_exists(${builder.name("id")})`;
    if (fence) {
      const owner = builder.name("leaseOwner");
      let held = `${owner} = ${builder.value(fence.leaseOwner)}`;
      if (fence.release) {
        builder.remove("leaseOwner", "leaseExpiresAt");
        // The same write applied again: the lease already given back, the device as written.
        const already = Object.entries({
          status: update.status,
          keyGeneration: update.keyGeneration,
        })
          .filter(([, value]) => value !== undefined)
          .map(([attribute, value]) =>
            value === null
              ? `attribute_type(${builder.name(attribute)}, ${builder.value("NULL")})`
              : `${builder.name(attribute)} = ${builder.value(value)}`,
          );
        if (already.length > 0) {
          held = `(${held} OR (attribute_not_exists(${owner}) AND ${already.join(" AND ")}))`;
        }
      }
      condition += ` AND ${held}`;
    }
    const { client, tableName } = this.table;
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { id },
          ...builder.build(condition),
          ReturnValues: "ALL_NEW",
        }),
      );
      return toDevice(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = fence
        ? await client.send(new GetCommand({ TableName: tableName, Key: { id } }))
        : { Item: undefined };
      if (fence && Item) {
        throw new LeaseLostError(id, fence.leaseOwner, Item.leaseOwner as string | undefined, {
          cause: error,
        });
      }
      throw new NotFoundError("device", id, { cause: error });
    }
  }

  async remove(id: string): Promise<boolean> {
    const { Attributes } = await this.table.client.send(
      new DeleteCommand({ TableName: this.table.tableName, Key: { id }, ReturnValues: "ALL_OLD" }),
    );
    return Attributes !== undefined;
  }

  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return acquireLease(this.table, id, owner, ttlMs);
  }

  takeLease(id: string, owner: string, ttlMs: number): Promise<Device | undefined> {
    return takeLease(this.table, id, owner, ttlMs);
  }

  extendLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return extendLease(this.table, id, owner, ttlMs);
  }

  holdLease(id: string, owner: string, ttlMs: number): Promise<Device | undefined> {
    return holdLease(this.table, id, owner, ttlMs);
  }

  releaseLease(id: string, owner: string): Promise<boolean> {
    return releaseLease(this.table, id, owner);
  }

  requestRecheck(id: string, asker: string): Promise<boolean> {
    return requestRecheck(this.table, id, asker);
  }

  releaseLeaseTakingRecheck(
    id: string,
    owner: string,
  ): Promise<{ released: boolean; recheck: boolean }> {
    return releaseLeaseTakingRecheck(this.table, id, owner);
  }
}
