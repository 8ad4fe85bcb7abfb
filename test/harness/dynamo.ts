import { randomBytes } from "node:crypto";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createEmbeddedDocumentClient,
  createLocalDocumentClient,
  startEmbeddedDynamo,
} from "../../lib/store/embedded.ts";
import { createTables, type TableNames, tableNames } from "../../lib/store/tables.ts";

/** Set to an endpoint (e.g. from `test/harness/dynamodb-local.sh`) to test against that engine. */
export const ENDPOINT_VARIABLE = "KEYHEAL_DYNAMODB_ENDPOINT";

export interface DynamoHarness {
  /** Document client for the engine, with every command it sends recorded in {@link commands}. */
  client: DynamoDBDocumentClient;
  /** The external engine's URL, or the embedded engine's Unix socket. */
  endpoint: string;
  engine: "dynalite" | "external";
  /** A set of keyheal tables made for this harness. */
  tables: TableNames;
  /** Names (`QueryCommand`, `ScanCommand`, …) of every command sent, in order. */
  commands: string[];
  /** Creates another, empty set of tables, for a test that must see only its own items. */
  newTables(): Promise<TableNames>;
  /** Deletes the tables it made (external engine) or stops dynalite. */
  stop(): Promise<void>;
}

/**
 * An embedded dynalite (on a private Unix socket, as the runtime runs it) with keyheal's tables, or, when
 * `KEYHEAL_DYNAMODB_ENDPOINT` is set, that engine (DynamoDB Local) with tables named uniquely
 * for this caller, so test files can share one engine.
 */
export async function startDynamo(options: { path?: string } = {}): Promise<DynamoHarness> {
  const external = process.env[ENDPOINT_VARIABLE];
  const engine = external ? undefined : await startEmbeddedDynamo(options);
  const endpoint = external ?? engine?.socketPath ?? "";
  const client = engine
    ? createEmbeddedDocumentClient(engine)
    : createLocalDocumentClient(endpoint);
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(context.commandName ?? "unknown");
      return next(args);
    },
    { step: "initialize", name: "keyhealRecordCommands" },
  );
  const run = randomBytes(4).toString("hex");
  const created: TableNames[] = [];
  const newTables = async () => {
    const names = tableNames(`kh-${run}-${created.length}`);
    await createTables(client, names);
    created.push(names);
    return names;
  };
  const tables = await newTables();
  return {
    client,
    endpoint,
    engine: external ? "external" : "dynalite",
    tables,
    commands,
    newTables,
    async stop() {
      if (engine) {
        client.destroy();
        await engine.close();
        return;
      }
      await Promise.all(
        created.flatMap((names) =>
          Object.values(names).map((TableName) =>
            client.send(new DeleteTableCommand({ TableName })).catch(() => undefined),
          ),
        ),
      );
      client.destroy();
    },
  };
}
