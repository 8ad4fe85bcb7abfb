/**
 * The rotation bench's fleet: N sandbox devices (real OpenSSH sshd on 127.0.0.1, LogLevel DEBUG1
 * so handshakes and exec/shell requests can be counted from sshd's own log), reset to the same
 * authorized_keys before every run, and checked after it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client } from "ssh2";
import { parseAuthorizedKeysLine } from "../../lib/authorized-keys/parse.ts";
import { fingerprintOf } from "../../lib/keys/fingerprint.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import type { KeyPair } from "../../lib/keys/types.ts";
import { SandboxDevice } from "../../lib/local/sandbox-sshd.ts";

/** Lines keyheal does not manage; every method must leave them byte for byte, in order. */
const foreignA = generateKeyPair({ comment: "alice@laptop" });
const foreignB = generateKeyPair({ type: "ecdsa", comment: "backup" });
export const FOREIGN_LINES = [
  `from="10.0.0.1,10.0.0.2",no-agent-forwarding ${foreignA.authorizedKey}`,
  foreignB.authorizedKey,
];

export interface BenchFleet {
  devices: SandboxDevice[];
  /** `known_hosts` for OpenSSH and Ansible: every device's host key at `[127.0.0.1]:port`. */
  knownHosts: string;
  /** Puts `FOREIGN_LINES` and `old` in every file and empties every sshd log. */
  reset(old: KeyPair): Promise<void>;
  /** sshd's own count, summed over the fleet, since the last reset. */
  count(): Promise<{ handshakes: number; commands: number }>;
  /** Every file holds the new key once, not the old one, and the foreign lines intact; the old key is refused. */
  check(old: KeyPair, newFingerprint: string): Promise<string[]>;
  destroy(): Promise<void>;
}

/** Runs `fn` over `items`, `limit` at a time. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
    }),
  );
  return results;
}

export async function startBenchFleet(size: number, dir: string): Promise<BenchFleet> {
  const placeholder = `${FOREIGN_LINES.join("\n")}\n`;
  const devices = await pool(Array.from({ length: size }), 16, () =>
    SandboxDevice.create(placeholder, { logLevel: "DEBUG1" }),
  );
  const knownHostsLines = await Promise.all(
    devices.map(async (d) => {
      const pub = (await readFile(join(d.dir, "host_ed25519.pub"), "utf8")).trim();
      return `[${d.host}]:${d.port} ${pub.split(" ").slice(0, 2).join(" ")}`;
    }),
  );
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, `${knownHostsLines.join("\n")}\n`);
  return {
    devices,
    knownHosts,
    async reset(old) {
      const content = `${FOREIGN_LINES[0]}\n${old.authorizedKey}\n${FOREIGN_LINES[1]}\n`;
      await pool(devices, 32, async (d) => {
        await d.writeAuthorizedKeys(content);
        await writeFile(d.logFile, "");
      });
    },
    async count() {
      let handshakes = 0;
      let commands = 0;
      for (const d of devices) {
        const log = await readFile(d.logFile, "utf8").catch(() => "");
        for (const line of log.split("\n")) {
          if (line.includes("Accepted publickey")) handshakes++;
          else if (
            /server_input_channel_req: channel \d+ request (exec|shell|subsystem)/.test(line)
          )
            commands++;
        }
      }
      return { handshakes, commands };
    },
    async check(old, newFingerprint) {
      const problems: string[] = [];
      await pool(devices, 32, async (d, i) => {
        const lines = (await d.readAuthorizedKeys()).split("\n").filter((l) => l !== "");
        const fingerprints = lines.map((l) => {
          const parsed = parseAuthorizedKeysLine(l);
          return parsed.kind === "key" ? fingerprintOf(parsed.blob) : undefined;
        });
        const fresh = fingerprints.filter((f) => f === newFingerprint).length;
        if (fresh !== 1) problems.push(`device ${i}: the new key appears ${fresh} times`);
        if (fingerprints.includes(old.fingerprint))
          problems.push(`device ${i}: the old key is still in the file`);
        const others = lines.filter((_, j) => fingerprints[j] !== newFingerprint);
        if (others.join("\n") !== FOREIGN_LINES.join("\n")) {
          problems.push(`device ${i}: the other lines changed: ${JSON.stringify(others)}`);
        }
        if (await logsIn(d, old)) problems.push(`device ${i}: sshd still accepts the old key`);
      });
      return problems;
    },
    async destroy() {
      await pool(devices, 32, (d) => d.destroy());
    },
  };
}

/** One connection with `key`: true when sshd accepts it. */
export function logsIn(device: SandboxDevice, key: KeyPair): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new Client();
    client.once("ready", () => {
      client.end();
      resolve(true);
    });
    client.once("error", () => resolve(false));
    client.connect({
      host: device.host,
      port: device.port,
      username: device.user,
      privateKey: key.privateKey,
      readyTimeout: 20_000,
    });
  });
}
