/**
 * The embedded DynamoDB-compatible engine of local mode (dynalite: DynamoDB's API over LevelDB),
 * and a document client for it. Kept out of `index.ts` so Lambda bundles never pull in dynalite.
 *
 * dynalite checks no signature and answers any Origin with CORS `*`, so it is never put on a TCP
 * port: it is served on a Unix socket in a private (0700) directory, behind a secret made at each
 * start, with every browser request refused (README, "Local mode and the CLI"). Only the
 * runtime that started it holds the secret and can reach the socket.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { Agent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { StoreSocketPathError } from "./errors.ts";

/** The header that carries the per-start secret on every call to the embedded engine. */
export const STORE_SECRET_HEADER = "x-keyheal-store-secret";

/**
 * Linux's limit on a Unix socket path (`sun_path` is 108 bytes, with the terminating NUL).
 */
const MAX_SOCKET_PATH_BYTES = 107;

export interface EmbeddedDynamoOptions {
  /** LevelDB directory for on-disk persistence; in memory when absent. */
  path?: string;
  /**
   * A directory made private (0700) for the socket, e.g. `<dataDir>/store`. Default: a new private
   * directory under the system's temporary directory, removed on close.
   */
  socketDir?: string;
}

/** How to reach a running embedded engine: only through {@link createEmbeddedDocumentClient}. */
export interface EmbeddedDynamo {
  /** The Unix socket the engine listens on (in a 0700 directory). */
  socketPath: string;
  /** Made at each start; a request without it is refused before dynalite reads it. */
  secret: string;
  /** Stops the server and closes its database. */
  close(): Promise<void>;
}

/** Starts dynalite with tables becoming ACTIVE at once (no simulated CREATING delay). */
export async function startEmbeddedDynamo(
  options: EmbeddedDynamoOptions = {},
): Promise<EmbeddedDynamo> {
  const ownDir = options.socketDir === undefined;
  const socketDir = options.socketDir ?? (await mkdtemp(join(tmpdir(), "keyheal-store-")));
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await chmod(socketDir, 0o700);
  const socketPath = join(socketDir, "dynamodb.sock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new StoreSocketPathError(socketPath, MAX_SOCKET_PATH_BYTES);
  }
  // A socket left by a runtime that was killed would make listen fail with EADDRINUSE; the
  // runtime lock (lib/local/lock.ts) already proved no live runtime owns this directory.
  await rm(socketPath, { force: true });

  const { default: dynalite } = await import("dynalite");
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  const secret = randomBytes(32).toString("base64url");
  guard(server, Buffer.from(secret));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    secret,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.closeIdleConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      await rm(ownDir ? socketDir : socketPath, { recursive: true, force: true });
    },
  };
}

/**
 * Puts a check in front of dynalite's own request listener: a request from a browser (any
 * `Origin`, which also covers CORS preflights) or without the secret gets a 403 and never reaches
 * the engine, so no `Access-Control-Allow-Origin` is ever sent.
 */
function guard(server: Server, secret: Buffer): void {
  const engine = server.listeners("request") as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers[STORE_SECRET_HEADER];
    const presented = Buffer.from(typeof given === "string" ? given : "");
    const allowed =
      req.headers.origin === undefined &&
      presented.length === secret.length &&
      timingSafeEqual(presented, secret);
    if (!allowed) {
      req.resume();
      res.writeHead(403, { "Content-Type": "text/plain", Connection: "close" });
      res.end("forbidden\n");
      return;
    }
    for (const listener of engine) listener.call(server, req, res);
  });
}

const DOCUMENT_OPTIONS = { marshallOptions: { removeUndefinedValues: true } } as const;

/**
 * A document client for a local engine reached over TCP (DynamoDB Local in tests): region
 * `local`, fixed dummy credentials (DynamoDB Local keeps one database per access key and region,
 * so they must not vary), undefined members dropped when marshalling.
 */
export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "keyheal", secretAccessKey: "keyheal" },
  });
  return DynamoDBDocumentClient.from(client, DOCUMENT_OPTIONS);
}

/**
 * The runtime's document client for the embedded engine: kept-alive connections over its Unix
 * socket, the secret on every request, and no SigV4 signature, since dynalite verifies none and
 * the socket and the secret are what let a caller in (computing one per call was measurable in a
 * rotation's profile, bench/RESULTS.md).
 */
export function createEmbeddedDocumentClient(engine: EmbeddedDynamo): DynamoDBDocumentClient {
  const agent = new Agent({
    keepAlive: true,
    socketPath: engine.socketPath,
  } as ConstructorParameters<typeof Agent>[0]);
  const client = new DynamoDBClient({
    // The host is never resolved: the agent connects to the socket.
    endpoint: "http://localhost",
    region: "local",
    credentials: { accessKeyId: "keyheal", secretAccessKey: "keyheal" },
    requestHandler: { httpAgent: agent },
    httpAuthSchemes: [secretScheme(engine.secret)],
  });
  return DynamoDBDocumentClient.from(client, DOCUMENT_OPTIONS);
}

type AuthScheme = NonNullable<DynamoDBClientConfig["httpAuthSchemes"]>[number];

/**
 * Takes the place of SigV4 for the embedded engine: the secret header, and the fixed shape of an
 * `Authorization` header that dynalite requires before it reads a request (it checks the shape,
 * not the signature).
 */
function secretScheme(secret: string): AuthScheme {
  return {
    schemeId: "aws.auth#sigv4",
    // No identity is needed: the secret is the credential.
    identityProvider: () => async () => ({}),
    signer: {
      sign: async (request) => {
        request.headers[STORE_SECRET_HEADER] = secret;
        request.headers.authorization =
          "AWS4-HMAC-SHA256 Credential=keyheal/19700101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
        request.headers["x-amz-date"] = "19700101T000000Z";
        return request;
      },
    },
  };
}
