import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ManifestNotFoundError,
  type ManifestRef,
  type ManifestStore,
} from "../workflows/manifests.ts";
import { readTaskEnvironment } from "./env.ts";

/** The manifest bucket of the fleet listing, from its environment (MANIFEST_BUCKET). */
export function s3Manifests(): ManifestStore | undefined {
  const bucket = readTaskEnvironment().MANIFEST_BUCKET;
  return bucket === undefined
    ? undefined
    : new S3ManifestStore({ client: new S3Client({}), bucket });
}

/** Rotation manifests in the stack's manifest bucket (encrypted, expired by a lifecycle rule). */
export class S3ManifestStore implements ManifestStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
  }

  async write(key: string, deviceIds: readonly string[]): Promise<ManifestRef> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: JSON.stringify(deviceIds),
        ContentType: "application/json",
      }),
    );
    return { bucket: this.#bucket, key, count: deviceIds.length, resultsPrefix: `${key}.results` };
  }

  async read(ref: Pick<ManifestRef, "bucket" | "key">): Promise<string[]> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }),
      );
      return JSON.parse((await answer.Body?.transformToString("utf8")) ?? "[]") as string[];
    } catch (error) {
      if (error instanceof NoSuchKey) throw new ManifestNotFoundError(ref.key);
      throw error;
    }
  }
}
