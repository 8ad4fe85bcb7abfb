/**
 * The embedded DynamoDB-compatible engine of local mode (dynalite: DynamoDB's API over LevelDB),
 * and a document client for it. Kept out of `index.ts` so Lambda bundles never pull in dynalite.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface EmbeddedDynamoOptions {
  /** LevelDB directory for on-disk persistence; in memory when absent. */
  path?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1; the engine has no authentication, so keep it on loopback. */
  host?: string;
}

export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Stops the server and closes its database. */
  close(): Promise<void>;
}

/** Starts dynalite with tables becoming ACTIVE at once (no simulated CREATING delay). */
export async function startEmbeddedDynamo(
  options: EmbeddedDynamoOptions = {},
): Promise<EmbeddedDynamo> {
  const { default: dynalite } = await import("dynalite");
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * A document client for a local engine (dynalite or DynamoDB Local): region `local`, fixed dummy
 * credentials (DynamoDB Local keeps one database per access key and region, so they must not
 * vary), undefined members dropped when marshalling.
 */
export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "keyheal", secretAccessKey: "keyheal" },
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
