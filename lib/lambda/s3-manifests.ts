import { S3Client } from "@aws-sdk/client-s3";
import { S3ManifestStore } from "../store/s3-manifest-store.ts";
import type { ManifestStore } from "../workflows/manifests.ts";
import { readTaskEnvironment } from "./env.ts";

/** The manifest bucket of the fleet listing, from its environment (MANIFEST_BUCKET). */
export function s3Manifests(): ManifestStore | undefined {
  const bucket = readTaskEnvironment().MANIFEST_BUCKET;
  return bucket === undefined
    ? undefined
    : new S3ManifestStore({ client: new S3Client({}), bucket });
}
