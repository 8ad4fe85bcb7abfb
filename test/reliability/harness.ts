/**
 * What the reliability suites share: raw HTTP to a runtime (for requests a well-behaved client
 * never sends), the secret-hygiene scan of everything a runtime left behind, and printed tables.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createEmbeddedDocumentClient, startEmbeddedDynamo } from "../../lib/store/embedded.ts";
import type { RuntimeProcess } from "../harness/local-runtime.ts";

/** True while the process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One request with a raw body (any bytes, any content type) and its parsed answer. */
export async function rawApi(
  runtime: RuntimeProcess,
  method: string,
  path: string,
  body: string | Buffer,
  contentType = "application/json",
): Promise<{ status: number; text: string; json: Record<string, unknown> | undefined }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${runtime.token}`, "content-type": contentType },
    body: new Uint8Array(typeof body === "string" ? Buffer.from(body) : body),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/**
 * Bytes written straight to the runtime's socket (a malformed request line or header a browser
 * or a scanner may send), and the status line of the answer, or "" when the socket closed
 * without one.
 */
export function rawHttp(runtime: RuntimeProcess, request: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(runtime.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = "";
    const done = () => {
      socket.destroy();
      resolve(answer.split("\r\n")[0] ?? "");
    };
    socket.setTimeout(5000, done);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.write(request);
  });
}

/** Every item of every table of a data directory's embedded store (the runtime must be stopped). */
export async function tableItems(dataDir: string): Promise<Record<string, unknown>[]> {
  const engine = await startEmbeddedDynamo({ path: join(dataDir, "db") });
  const client = createEmbeddedDocumentClient(engine);
  try {
    const items: Record<string, unknown>[] = [];
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    for (const TableName of TableNames) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      // Bounded: no table of a test runtime holds more than a few thousand items.
      for (let page = 0; page < 1000; page++) {
        const answer = await client.send(new ScanCommand({ TableName, ExclusiveStartKey }));
        items.push(...(answer.Items ?? []).map((item) => ({ table: TableName, ...item })));
        ExclusiveStartKey = answer.LastEvaluatedKey;
        if (!ExclusiveStartKey) break;
      }
    }
    return items;
  } finally {
    client.destroy();
    await engine.close();
  }
}

/** Files under `dir` (recursively), except the paths `skip` names. */
async function filesUnder(dir: string, skip: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (skip(path)) continue;
    if (entry.isDirectory()) found.push(...(await filesUnder(path, skip)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** Markers of private-key material in any of the encodings keyheal could leak it in. */
export const PRIVATE_KEY_MARKERS = [
  "PRIVATE KEY-----",
  "openssh-key-v1",
  // "openssh-key-v1\0" in base64, as it starts an OpenSSH private key's armoured body.
  "b3BlbnNzaC1rZXktdjE",
];

export interface Hit {
  where: string;
  what: string;
}

/**
 * Where any of `secrets` (and any private-key marker) occurs in `texts`. Each secret is looked
 * for as it is, JSON-escaped and base64-encoded, so an encoded copy is found too.
 */
export function secretHits(texts: Record<string, string>, secrets: readonly string[]): Hit[] {
  const needles: Array<[string, string]> = PRIVATE_KEY_MARKERS.map((m) => [m, `key marker ${m}`]);
  secrets.forEach((secret, index) => {
    needles.push([secret, `secret #${index}`]);
    needles.push([JSON.stringify(secret).slice(1, -1), `secret #${index} (JSON)`]);
    needles.push([Buffer.from(secret).toString("base64"), `secret #${index} (base64)`]);
  });
  const hits: Hit[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const [needle, what] of needles) {
      if (needle.length >= 6 && text.includes(needle)) hits.push({ where, what });
    }
  }
  return hits;
}

/**
 * Everything a stopped runtime left that is not its key store: its log lines, every table item
 * (run history included), and every file of its data directory but the secrets directory (the
 * key store, 0600 files) and the engine's LevelDB files (read through the engine instead).
 */
export async function runtimeLeftovers(
  dataDir: string,
  output: string,
): Promise<Record<string, string>> {
  const texts: Record<string, string> = { "runtime log": output };
  for (const item of await tableItems(dataDir)) {
    texts[`table ${String(item.table)} item ${String(item.pk ?? item.id ?? "")}`] =
      JSON.stringify(item);
  }
  const files = await filesUnder(
    dataDir,
    (path) => path === join(dataDir, "secrets") || path === join(dataDir, "db"),
  );
  for (const file of files) texts[`file ${file}`] = await readFile(file, "latin1");
  return texts;
}

/** The mode bits of every file in the key store (private keys must be 0600). */
export async function keyStoreModes(dataDir: string): Promise<number[]> {
  const files = await filesUnder(join(dataDir, "secrets"), () => false);
  return Promise.all(files.map(async (file) => (await stat(file)).mode & 0o777));
}

/** Prints a table of rows under a title (so a run's figures show in CI's log). */
export function printTable(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const text = [
    title,
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
  console.log(text);
  return text;
}
