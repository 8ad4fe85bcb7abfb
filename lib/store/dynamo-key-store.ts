import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ulid } from "ulid";
import type { Page } from "../devices/types.ts";
import { importPrivateKey } from "../keys/import.ts";
import type { KeyGenerationRecord, KeyStatus, KeyStore, SecretStore } from "../keys/store-types.ts";
import type { KeyPair } from "../keys/types.ts";
import {
  DynamoTable,
  type Item,
  isConditionalCheckFailed,
  listPage,
  pageSize,
  readAll,
  readPage,
  recordOf,
  type TableOptions,
} from "./dynamo-util.ts";
import {
  CurrentKeyRetireError,
  KeyGenerationConflictError,
  KeyMaterialMismatchError,
  NotFoundError,
} from "./errors.ts";
import { KEY_KIND, TABLES } from "./tables.ts";

export interface DynamoKeyStoreOptions extends Omit<TableOptions, "ttlSeconds"> {
  /** Where private keys go; the table holds only the returned reference. */
  secrets: SecretStore;
  /**
   * Prefix of private-key secret names; default `platform-key` (the Secrets Manager store adds its
   * own prefix, e.g. `keyheal/`). Names are `<prefix>/<generation>/<ulid>`.
   */
  secretPrefix?: string;
}

const design = TABLES.keys;

/**
 * How long a loaded list of generations may be answered again to a caller that names the current
 * generation (a rotation's Install, once per device). Within a rotation nothing else changes the
 * list: its older generations are retired only after every device's step.
 */
export const GENERATIONS_REUSE_MS = 60_000;

/**
 * {@link KeyStore} over one DynamoDB table: constant partition `kind = "PLATFORM_KEY"`, sort key
 * `generation`, so "newest first" is a single Query. Private keys live in the {@link SecretStore};
 * items hold the public key, its fingerprint and the secret's reference only.
 */
export class DynamoKeyStore extends DynamoTable implements KeyStore {
  private readonly secrets: SecretStore;
  private readonly secretPrefix: string;
  /** The last list loaded, for {@link loadGenerations} with `current`; dropped by any key write. */
  private loaded:
    | { at: number; generations: Promise<Array<{ generation: number; key: KeyPair }>> }
    | undefined;

  constructor(options: DynamoKeyStoreOptions) {
    super(options);
    this.secrets = options.secrets;
    this.secretPrefix = options.secretPrefix ?? "platform-key";
  }

  /** Newest generation first. */
  async list(query: { limit?: number; cursor?: string } = {}): Promise<Page<KeyGenerationRecord>> {
    const window = {
      limit: pageSize(query.limit),
      cursor: query.cursor,
      fixed: { kind: KEY_KIND },
    };
    return listPage(this.client, { query: this.newestFirst() }, design, window, toRecord);
  }

  async get(generation: number): Promise<KeyGenerationRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { kind: KEY_KIND, generation } }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  /** The newest CURRENT generation (normally the newest of all). */
  async current(): Promise<KeyGenerationRecord | undefined> {
    const page = await readPage(
      this.client,
      { query: this.newestFirst(["CURRENT"]) },
      1,
      undefined,
    );
    const item = page.items[0];
    return item ? toRecord(item) : undefined;
  }

  /**
   * Stores the private key as a new secret, then writes generation N+1 as CURRENT with a
   * conditional put (two rotations cannot both become N+1), then demotes older CURRENT
   * generations to PREVIOUS. A crash between the two writes leaves two CURRENT items, which
   * {@link current} and the next `add` resolve in favour of the newest.
   *
   * @throws {KeyGenerationConflictError} another rotation took generation N+1 first; the secret
   * written for this key is deleted again.
   */
  add(key: KeyPair): Promise<KeyGenerationRecord> {
    return this.changing(() => this.addGeneration(key));
  }

  /**
   * A write to the generations: the loaded list is dropped before it, and again after it, since a
   * load that began meanwhile may have read the table as it was.
   */
  private async changing<T>(write: () => Promise<T>): Promise<T> {
    this.loaded = undefined;
    try {
      return await write();
    } finally {
      this.loaded = undefined;
    }
  }

  private async addGeneration(key: KeyPair): Promise<KeyGenerationRecord> {
    const newest = await readPage(this.client, { query: this.newestFirst() }, 1, undefined);
    const generation = ((newest.items[0]?.generation as number | undefined) ?? 0) + 1;
    // A unique name per attempt: a losing concurrent rotation must not overwrite the winner's key.
    const secretRef = await this.secrets.put(
      `${this.secretPrefix}/${generation}/${ulid()}`,
      key.privateKey,
    );
    const record: KeyGenerationRecord = {
      generation,
      algorithm: key.algorithm,
      fingerprint: key.fingerprint,
      publicKey: key.authorizedKey,
      status: "CURRENT",
      createdAt: new Date(this.now()).toISOString(),
      secretRef,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { kind: KEY_KIND, ...record },
          ConditionExpression: "attribute_not_exists(#generation)",
          ExpressionAttributeNames: { "#generation": "generation" },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      await this.secrets.delete(secretRef).catch(() => undefined);
      throw new KeyGenerationConflictError(generation, { cause: error });
    }
    for await (const items of readAll(this.client, {
      query: this.newestFirst(["CURRENT"], generation),
    })) {
      for (const item of items) {
        await this.setStatus(item.generation as number, "PREVIOUS", "CURRENT");
      }
    }
    return record;
  }

  /**
   * Marks the generation RETIRED and deletes its private key from the secret store: a retired
   * key is never used again. Idempotent.
   *
   * @throws {CurrentKeyRetireError} the generation is the current key.
   * @throws {NotFoundError} no such generation.
   */
  retire(generation: number): Promise<void> {
    return this.changing(() => this.retireGeneration(generation));
  }

  private async retireGeneration(generation: number): Promise<void> {
    let old: Item | undefined;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { kind: KEY_KIND, generation },
          UpdateExpression: "SET #status = :retired",
          ConditionExpression: "attribute_exists(#generation) AND #status <> :current",
          ExpressionAttributeNames: { "#status": "status", "#generation": "generation" },
          ExpressionAttributeValues: { ":retired": "RETIRED", ":current": "CURRENT" },
          ReturnValues: "ALL_OLD",
        }),
      );
      old = result.Attributes;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (await this.get(generation)) throw new CurrentKeyRetireError(generation, { cause: error });
      throw new NotFoundError("key generation", String(generation), { cause: error });
    }
    if (typeof old?.secretRef === "string") await this.secrets.delete(old.secretRef);
  }

  /**
   * CURRENT and PREVIOUS generations, newest first, with their private keys read from the secret
   * store and checked against the stored fingerprint.
   *
   * @throws {KeyMaterialMismatchError} a secret holds a key other than its generation's.
   */
  async loadGenerations(
    options: { current?: number | undefined } = {},
  ): Promise<Array<{ generation: number; key: KeyPair }>> {
    const loaded = this.loaded;
    if (options.current !== undefined && loaded && this.now() - loaded.at < GENERATIONS_REUSE_MS) {
      const generations = await loaded.generations.catch(() => undefined);
      if (generations?.[0]?.generation === options.current) return generations;
    }
    const at = this.now();
    const generations = this.readGenerations();
    this.loaded = { at, generations };
    generations.catch(() => {
      if (this.loaded?.generations === generations) this.loaded = undefined;
    });
    return generations;
  }

  private async readGenerations(): Promise<Array<{ generation: number; key: KeyPair }>> {
    const records: KeyGenerationRecord[] = [];
    for await (const items of readAll(this.client, {
      query: this.newestFirst(["CURRENT", "PREVIOUS"]),
    })) {
      records.push(...items.map(toRecord));
    }
    return Promise.all(
      records.map(async (record) => {
        const key = importPrivateKey(await this.secrets.get(record.secretRef));
        if (key.fingerprint !== record.fingerprint) {
          throw new KeyMaterialMismatchError(record.generation, record.secretRef);
        }
        return { generation: record.generation, key };
      }),
    );
  }

  private async setStatus(generation: number, status: KeyStatus, expected: KeyStatus) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { kind: KEY_KIND, generation },
          UpdateExpression: "SET #status = :status",
          ConditionExpression: "#status = :expected",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":status": status, ":expected": expected },
        }),
      );
    } catch (error) {
      // Someone else changed it first (another rotation demoted it, or it was retired): fine.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** A newest-first query, optionally only some statuses and generations below `below`. */
  private newestFirst(statuses?: readonly KeyStatus[], below?: number) {
    const names: Record<string, string> = { "#kind": "kind" };
    const values: Record<string, unknown> = { ":kind": KEY_KIND };
    let keyCondition = "#kind = :kind";
    if (below !== undefined) {
      names["#generation"] = "generation";
      values[":below"] = below;
      keyCondition += " AND #generation < :below";
    }
    let filter: string | undefined;
    if (statuses) {
      names["#status"] = "status";
      const aliases = statuses.map((status, i) => {
        values[`:s${i}`] = status;
        return `:s${i}`;
      });
      filter = `#status IN (${aliases.join(", ")})`;
    }
    return {
      TableName: this.tableName,
      KeyConditionExpression: keyCondition,
      ...(filter ? { FilterExpression: filter } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    };
  }
}

const KEY_FIELDS = [
  "generation",
  "algorithm",
  "fingerprint",
  "publicKey",
  "status",
  "createdAt",
  "secretRef",
] as const;

function toRecord(item: Item): KeyGenerationRecord {
  return recordOf<KeyGenerationRecord>(item, KEY_FIELDS);
}
