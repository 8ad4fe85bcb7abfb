import { chmod, mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TEMP_SUFFIX, writeFileAtomic } from "../files/atomic-write.ts";
import type { SecretStore } from "../keys/store-types.ts";
import type { Clock } from "./dynamo-util.ts";
import {
  InvalidSecretNameError,
  SecretExpiredError,
  SecretNotFoundError,
  StoreError,
} from "./errors.ts";
import { assertSecretName, expiryOf } from "./secret-names.ts";

export interface FileSecretStoreOptions {
  /** Created with mode 0700 when missing, and narrowed to 0700 when it exists. */
  directory: string;
  clock?: Clock;
}

interface SecretFile {
  name: string;
  value: string;
  createdAt: string;
  expiresAt?: string;
}

const SUFFIX = ".secret";
/** Most file systems allow 255 bytes per name. */
const MAX_FILE_NAME = 255;

/**
 * Local mode's {@link SecretStore}: one file per secret (mode 0600) in a directory (mode 0700).
 * The reference is the secret's name. Names are checked ({@link assertSecretName}) and
 * percent-encoded into a single file name, so no name reaches outside the directory. A secret put
 * with `ttlSeconds` is refused and deleted when read after its expiry.
 */
export class FileSecretStore implements SecretStore {
  readonly directory: string;
  private readonly now: Clock;
  private ready: Promise<void> | undefined;

  constructor(options: FileSecretStoreOptions) {
    this.directory = options.directory;
    this.now = options.clock ?? Date.now;
  }

  async put(name: string, value: string, options: { ttlSeconds?: number } = {}): Promise<string> {
    const path = this.pathOf(name);
    const expiresAt = expiryOf(options.ttlSeconds, this.now());
    const content: SecretFile = {
      name,
      value,
      createdAt: new Date(this.now()).toISOString(),
      ...(expiresAt ? { expiresAt } : {}),
    };
    await this.ensureDirectory();
    // Readers never see half a secret; a crash leaves at most a temp file, which
    // purgeShortLived removes.
    await writeFileAtomic(path, JSON.stringify(content), 0o600);
    return name;
  }

  /**
   * @throws {SecretNotFoundError} no such secret.
   * @throws {SecretExpiredError} its time to live has passed (it is deleted).
   * @throws {InvalidSecretNameError} the reference is not a valid name.
   */
  async get(ref: string): Promise<string> {
    const secret = await this.read(ref);
    if (secret.expiresAt !== undefined && Date.parse(secret.expiresAt) <= this.now()) {
      await this.delete(ref);
      throw new SecretExpiredError(ref, secret.expiresAt);
    }
    return secret.value;
  }

  /** Idempotent: deleting a missing secret is not an error. */
  async delete(ref: string): Promise<void> {
    const path = this.pathOf(ref);
    await unlink(path).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  /** Deletes every expired secret; returns how many. For the local runtime's housekeeping. */
  async purgeExpired(): Promise<number> {
    const entries = await this.entries();
    let purged = 0;
    for (const entry of entries) {
      if (!entry.endsWith(SUFFIX)) continue;
      const name = decodeURIComponent(entry.slice(0, -SUFFIX.length));
      try {
        await this.get(name);
      } catch (error) {
        if (error instanceof SecretExpiredError) purged++;
        else if (!(error instanceof SecretNotFoundError)) throw error;
      }
    }
    return purged;
  }

  /**
   * Deletes every short-lived secret, expired or not, and every temp file a `put` cut off by a
   * crash left behind; returns how many secrets. For the local runtime's start: no run survives a
   * restart (interrupted ones end as FAILED), so no operator secret is still needed.
   */
  async purgeShortLived(): Promise<number> {
    const entries = await this.entries();
    let purged = 0;
    for (const entry of entries) {
      if (entry.startsWith(".") && entry.endsWith(TEMP_SUFFIX)) {
        await unlink(join(this.directory, entry)).catch(() => undefined);
        continue;
      }
      if (!entry.endsWith(SUFFIX)) continue;
      const name = decodeURIComponent(entry.slice(0, -SUFFIX.length));
      const secret = await this.read(name).catch((error: unknown) => {
        // Gone meanwhile, or not a secret file keyheal wrote: nothing to purge.
        if (error instanceof StoreError) return undefined;
        throw error;
      });
      if (secret?.expiresAt === undefined) continue;
      await this.delete(name);
      purged++;
    }
    return purged;
  }

  /** The directory's file names; none while it does not exist. */
  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.directory);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  private async read(ref: string): Promise<SecretFile> {
    const path = this.pathOf(ref);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if (isNotFound(error)) throw new SecretNotFoundError(ref, { cause: error });
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as SecretFile;
      if (typeof parsed.value !== "string") throw new Error("no value");
      return parsed;
    } catch (error) {
      throw new StoreError(`secret file for ${JSON.stringify(ref)} is corrupt`, { cause: error });
    }
  }

  /** One file name per secret name: everything but letters, digits, `_` and `-` is %XX-encoded. */
  private pathOf(name: string): string {
    assertSecretName(name);
    const encoded = name.replace(
      /[^A-Za-z0-9_-]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
    if (encoded.length + SUFFIX.length > MAX_FILE_NAME) {
      throw new InvalidSecretNameError("too long to be a file name once encoded");
    }
    return join(this.directory, `${encoded}${SUFFIX}`);
  }

  private ensureDirectory(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      const info = await stat(this.directory);
      if (!info.isDirectory()) {
        throw new StoreError(`secret store path ${this.directory} is not a directory`);
      }
      await chmod(this.directory, 0o700);
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
