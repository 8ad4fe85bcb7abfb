/**
 * Rotation manifests: the device ids a rotation's Distributed Map reads with its ItemReader, one
 * JSON array per phase (canary, fleet). Written by ListDevices so no state's input or output
 * carries the fleet (Step Functions' 256 KB payload limit; docs/scale.md).
 *
 * @module
 */

/** Where a manifest lives: the ItemReader's `Bucket` and `Key`, and where results go. */
export interface ManifestRef {
  bucket: string;
  key: string;
  /** Items in the manifest. */
  count: number;
  /** The ResultWriter's prefix for this phase's child results. */
  resultsPrefix: string;
}

/** Holds manifests: S3 on AWS, memory in local mode. */
export interface ManifestStore {
  write(key: string, deviceIds: readonly string[]): Promise<ManifestRef>;
  read(ref: Pick<ManifestRef, "bucket" | "key">): Promise<string[]>;
  /**
   * Drops an ended rotation's manifests, where nothing else does (local mode; on AWS the
   * bucket's lifecycle rule expires them).
   */
  discardRun?(runName: string): void;
}

/** Where a rotation's manifests are kept: one prefix per run, named after the run. */
export function manifestPrefix(runId: string): string {
  return `rotations/${runId.slice(runId.lastIndexOf(":") + 1)}`;
}

/** A manifest that is not there: the run that wrote it is gone, or the key is wrong. */
export class ManifestNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`The rotation manifest ${key} does not exist; start the rotation again.`);
    this.name = "ManifestNotFoundError";
    this.key = key;
  }
}

/** The local runtime's manifests: kept while their rotation runs, dropped by the runner when it ends. */
export class MemoryManifestStore implements ManifestStore {
  static readonly BUCKET = "local-manifests";
  readonly #manifests = new Map<string, string[]>();

  async write(key: string, deviceIds: readonly string[]): Promise<ManifestRef> {
    this.#manifests.set(key, [...deviceIds]);
    return {
      bucket: MemoryManifestStore.BUCKET,
      key,
      count: deviceIds.length,
      resultsPrefix: `${key}.results`,
    };
  }

  async read(ref: Pick<ManifestRef, "bucket" | "key">): Promise<string[]> {
    const items = this.#manifests.get(ref.key);
    if (!items) throw new ManifestNotFoundError(ref.key);
    return [...items];
  }

  discardRun(runName: string): void {
    const prefix = `${manifestPrefix(runName)}/`;
    for (const key of this.#manifests.keys()) {
      if (key.startsWith(prefix)) this.#manifests.delete(key);
    }
  }
}
