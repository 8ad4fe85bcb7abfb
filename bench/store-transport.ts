/**
 * What one store call costs the runtime, on the transport local mode had (dynalite on a loopback
 * TCP port, SigV4-signed requests) and on the one it has (a Unix socket in the data directory,
 * kept-alive connections, the per-start secret instead of a signature). Both engines run in this
 * process, as in the runtime, so CPU per call covers client and engine.
 *
 *   node bench/store-transport.ts          # CALLS=3000 by default
 */
import type { AddressInfo } from "node:net";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  createEmbeddedDocumentClient,
  createLocalDocumentClient,
  startEmbeddedDynamo,
} from "../lib/store/embedded.ts";
import { createTables, tableNames } from "../lib/store/tables.ts";

const CALLS = Math.min(Math.max(Number(process.env.CALLS ?? 3000) || 3000, 100), 20_000);
const CONCURRENCY = 8;

type Client = ReturnType<typeof createLocalDocumentClient>;

async function measure(name: string, client: Client): Promise<string> {
  const names = tableNames(`t${Date.now()}`);
  await createTables(client, names);
  await client.send(new PutCommand({ TableName: names.devices, Item: { id: "d1", host: "h" } }));
  const call = () => client.send(new GetCommand({ TableName: names.devices, Key: { id: "d1" } }));
  for (let i = 0; i < 200; i++) await call(); // warm-up
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / CALLS;
  return `| ${name} | ${((wallMs * 1000) / CALLS).toFixed(0)} µs | ${cpuUs.toFixed(0)} µs |`;
}

const { default: dynalite } = await import("dynalite");
const tcp = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
const before = createLocalDocumentClient(`http://127.0.0.1:${(tcp.address() as AddressInfo).port}`);
const engine = await startEmbeddedDynamo();
const after = createEmbeddedDocumentClient(engine);

const rows: string[] = [];
// Alternated, twice, so a drift of the machine's speed hits both alike.
for (let round = 0; round < 2; round++) {
  rows.push(await measure("TCP port, SigV4 (before)", before));
  rows.push(await measure("Unix socket, secret, keep-alive (now)", after));
}
console.log(
  [
    `${CALLS} GetItem calls, ${CONCURRENCY} at a time, engine in process (Node ${process.versions.node})`,
    "",
    "| transport | wall per call | process CPU per call |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n"),
);
before.destroy();
after.destroy();
await new Promise((resolve) => tcp.close(resolve));
await engine.close();
