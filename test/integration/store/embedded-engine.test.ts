import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AbstractLevel } from "abstract-level";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DynamoDeviceStore } from "../../../lib/store/dynamo-device-store.ts";
import {
  createEmbeddedDocumentClient,
  type EmbeddedDynamo,
  STORE_SECRET_HEADER,
  startEmbeddedDynamo,
} from "../../../lib/store/embedded.ts";
import { StoreSocketPathError } from "../../../lib/store/errors.ts";
import { createTables, tableNames } from "../../../lib/store/tables.ts";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-embedded-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Local mode's engine, whatever KEYHEAL_DYNAMODB_ENDPOINT says: this is about dynalite itself. */
async function withEngine<T>(fn: (store: DynamoDeviceStore) => Promise<T>): Promise<T> {
  const engine = await startEmbeddedDynamo({ path: join(dataDir, "db") });
  const client = createEmbeddedDocumentClient(engine);
  try {
    const names = tableNames("keyheal");
    await createTables(client, names); // idempotent: the second start finds them
    return await fn(new DynamoDeviceStore({ client, tableName: names.devices }));
  } finally {
    client.destroy();
    await engine.close();
  }
}

describe("embedded engine", () => {
  it("issue 10.7: listens on no TCP port, only on a 0600 socket in a 0700 directory", async () => {
    const socketDir = join(dataDir, "store");
    const engine = await startEmbeddedDynamo({ socketDir });
    try {
      expect(engine.socketPath).toBe(join(socketDir, "dynamodb.sock"));
      const socket = await stat(engine.socketPath);
      expect(socket.isSocket()).toBe(true);
      expect(socket.mode & 0o777).toBe(0o600);
      expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
      expect(engine).not.toHaveProperty("port");
    } finally {
      await engine.close();
    }
  });

  it("issue 10.7: a request without the per-start secret is refused before the engine reads it", async () => {
    const engine = await startEmbeddedDynamo();
    try {
      expect((await listTables(engine, {})).status).toBe(403);
      expect((await listTables(engine, { [STORE_SECRET_HEADER]: "x".repeat(43) })).status).toBe(
        403,
      );
      // The same request with the secret is served: the refusal is the secret's doing.
      const served = await listTables(engine, { [STORE_SECRET_HEADER]: engine.secret });
      expect(served.status).toBe(200);
      expect(JSON.parse(served.body)).toEqual({ TableNames: [] });
    } finally {
      await engine.close();
    }
  });

  it("issue 10.7: a preflight or call from another origin gets no Access-Control-Allow-Origin", async () => {
    const engine = await startEmbeddedDynamo();
    try {
      const origin = { origin: "http://attacker.example", [STORE_SECRET_HEADER]: engine.secret };
      const preflight = await send(engine, "OPTIONS", {
        ...origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-amz-target,authorization",
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
      const call = await listTables(engine, origin);
      expect(call.status).toBe(403);
      expect(call.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await engine.close();
    }
  });

  it("issue 10.7: another local user cannot connect to the store's socket", async () => {
    // The parent is open to everyone, so only the store's own 0700 directory and 0600 socket
    // stand between another user and the engine.
    await chmod(dataDir, 0o755);
    const engine = await startEmbeddedDynamo({ socketDir: join(dataDir, "store") });
    try {
      const asNobody = await run(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "-m", "5"].concat([
          "--unix-socket",
          engine.socketPath,
          "http://localhost/",
        ]),
      ).then(
        () => 0,
        (error: { code?: number }) => error.code,
      );
      expect(asNobody).toBe(7); // curl: could not connect
      const asRoot = await run("curl", [
        "-sS",
        "-m",
        "5",
        "--unix-socket",
        engine.socketPath,
        "http://localhost/",
      ]);
      expect(asRoot.stdout).toBe("forbidden\n");
    } finally {
      await engine.close();
    }
  });

  it("issue 10.7: a data directory too deep for a Unix socket is refused with what to do", async () => {
    const deep = join(dataDir, "d".repeat(120));
    await expect(startEmbeddedDynamo({ socketDir: deep })).rejects.toThrow(StoreSocketPathError);
    await expect(startEmbeddedDynamo({ socketDir: deep })).rejects.toThrow(/shorter path/);
  });

  it("keeps data on disk across restarts in the data directory", async () => {
    await withEngine(async (store) => {
      await store.register({ id: "edge-1", host: "10.1.0.1", port: 22, adminUser: "ops" });
      await store.update("edge-1", { status: "KEY_BASED", keyGeneration: 4 });
    });
    const device = await withEngine((store) => store.get("edge-1"));
    expect(device).toMatchObject({ id: "edge-1", status: "KEY_BASED", keyGeneration: 4 });
  });

  it("closes the LevelDB iterator of every query, paged or read to the end (each one left open held native memory for good)", async () => {
    // Every iterator the engine opens on its database, until it is closed.
    type Closable = { close(): Promise<void> };
    const open = new Set<Closable>();
    const original = { values: AbstractLevel.prototype.values, keys: AbstractLevel.prototype.keys };
    const track = (method: "values" | "keys") =>
      function (this: AbstractLevel<unknown, unknown, unknown>, ...args: unknown[]): never {
        const iterator = (original[method] as (...a: unknown[]) => Closable).apply(this, args);
        open.add(iterator);
        const close = iterator.close.bind(iterator);
        iterator.close = () => {
          open.delete(iterator);
          return close();
        };
        return iterator as never;
      };
    const values = vi.spyOn(AbstractLevel.prototype, "values").mockImplementation(track("values"));
    const keys = vi.spyOn(AbstractLevel.prototype, "keys").mockImplementation(track("keys"));
    try {
      await withEngine(async (store) => {
        for (let i = 0; i < 6; i++) {
          await store.register({
            id: `edge-${i}`,
            host: `10.1.0.${i}`,
            port: 22,
            adminUser: "ops",
          });
        }
        open.clear(); // table creation's own reads are not the question
        // A query through the sorted index and a scan, each cut by its limit and read whole.
        for (const sorted of [true, false]) {
          const firstPage = await store.list({ sorted, limit: 2 });
          expect(firstPage.items).toHaveLength(2);
          expect(firstPage.nextCursor).toBeDefined();
          const everything = await store.list({ sorted, limit: 100 });
          expect(everything.items).toHaveLength(6);
        }
        await expect.poll(() => open.size, { timeout: 2_000 }).toBe(0);
      });
    } finally {
      values.mockRestore();
      keys.mockRestore();
    }
  });
});

const run = promisify(execFile);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request to the engine's socket, shaped as the SDK shapes one. */
function send(engine: EmbeddedDynamo, method: string, headers: Record<string, string>, body = "") {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ socketPath: engine.socketPath, path: "/", method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function listTables(engine: EmbeddedDynamo, headers: Record<string, string>): Promise<Answer> {
  return send(
    engine,
    "POST",
    {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
      "x-amz-date": "20260101T000000Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=a/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
      ...headers,
    },
    "{}",
  );
}
