/**
 * Fleet heal benchmark: N sandbox devices (real sshd on 127.0.0.1) hold generation 1; the
 * platform rotates to generation 2 and keyheal heals them all with a bounded concurrency.
 * Handshakes are counted from sshd's own logs, not from keyheal's report.
 *
 *   npm run bench                 # defaults: 16 devices, concurrency 4
 *   DEVICES=32 CONCURRENCY=8 npm run bench
 */
import { readFile } from "node:fs/promises";
import { generateKeyPair } from "../lib/keys/index.ts";
import { SandboxDevice } from "../lib/local/sandbox-sshd.ts";
import { detectKey } from "../lib/replace/detect-conflict.ts";
import { type DeviceTarget, type Generation, healDevice } from "../lib/replace/heal-device.ts";
import { openSession } from "../lib/ssh/connect.ts";

const DEVICES = Math.min(Number(process.env.DEVICES ?? 16), 64);
const CONCURRENCY = Math.min(Number(process.env.CONCURRENCY ?? 4), 16);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;

async function accepted(device: SandboxDevice): Promise<number> {
  const log = await readFile(device.logFile, "utf8").catch(() => "");
  return log.split("\n").filter((l) => l.includes("Accepted publickey")).length;
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

const gen1: Generation = { generation: 1, key: generateKeyPair() };
const gen2: Generation = { generation: 2, key: generateKeyPair() };
const lines = `# unmanaged\n${generateKeyPair().authorizedKey}\n${gen1.key.authorizedKey}\n`;

console.log(`starting ${DEVICES} sshd devices on 127.0.0.1 …`);
const devices = await Promise.all(
  Array.from({ length: DEVICES }, () => SandboxDevice.create(lines)),
);
const targets: DeviceTarget[] = devices.map((d, i) => ({
  id: `bench-${i}`,
  host: d.host,
  port: d.port,
  adminUser: d.user,
  hostKeyFingerprint: d.hostKeyFingerprint,
  authorizedKeysPath: d.authorizedKeysFile,
}));

try {
  // sshd's own cost per connection: one handshake + publickey auth, nothing else.
  const bare: number[] = [];
  for (const t of targets) {
    const started = performance.now();
    const s = await openSession({
      host: t.host,
      port: t.port,
      username: t.adminUser,
      hostKeyFingerprint: t.hostKeyFingerprint,
      credentials: [
        {
          kind: "publickey",
          label: "g1",
          fingerprint: gen1.key.fingerprint,
          privateKey: gen1.key.privateKey,
        },
      ],
    });
    bare.push(performance.now() - started);
    s.close();
  }
  const afterBare = await Promise.all(devices.map(accepted));

  const detect: number[] = [];
  for (const t of targets) {
    const started = performance.now();
    await detectKey({ device: t, generations: [gen2, gen1] });
    detect.push(performance.now() - started);
  }
  const afterDetect = await Promise.all(devices.map(accepted));

  const heal: number[] = [];
  const handshakes: number[] = [];
  const fleetStart = performance.now();
  await pool(targets, CONCURRENCY, async (t) => {
    const started = performance.now();
    const result = await healDevice({ device: t, generations: [gen2, gen1] });
    heal.push(performance.now() - started);
    handshakes.push(result.handshakes);
  });
  const fleetMs = performance.now() - fleetStart;
  const afterHeal = await Promise.all(devices.map(accepted));
  const healHandshakes = afterHeal.map((n, i) => n - (afterDetect[i] ?? 0));
  const detectHandshakes = afterDetect.map((n, i) => n - (afterBare[i] ?? 0));
  const healed = (await Promise.all(devices.map((d) => d.readAuthorizedKeys()))).filter(
    (c) => c.includes(gen2.key.authorizedKey) && !c.includes(gen1.key.authorizedKey),
  ).length;

  const rows = [
    ["devices", String(DEVICES)],
    ["concurrency", String(CONCURRENCY)],
    [
      "bare handshake+auth, median / p95 (ms)",
      `${median(bare).toFixed(1)} / ${p95(bare).toFixed(1)}`,
    ],
    ["detect, median / p95 (ms)", `${median(detect).toFixed(1)} / ${p95(detect).toFixed(1)}`],
    ["detect handshakes per device (sshd log)", `max ${Math.max(...detectHandshakes)}`],
    ["heal, median / p95 (ms)", `${median(heal).toFixed(1)} / ${p95(heal).toFixed(1)}`],
    [
      "heal handshakes per device (sshd log)",
      `max ${Math.max(...healHandshakes)}, keyheal says max ${Math.max(...handshakes)}`,
    ],
    ["fleet heal wall time (ms)", fleetMs.toFixed(0)],
    ["devices healed (gen 2 only)", `${healed}/${DEVICES}`],
  ];
  console.log();
  for (const [k, v] of rows) console.log(`${(k ?? "").padEnd(44)} ${v}`);
  if (healed !== DEVICES || Math.max(...healHandshakes) > 3 || Math.max(...detectHandshakes) > 1) {
    console.error("\nbenchmark check failed: not every device healed within 1 + 2 handshakes");
    process.exitCode = 1;
  }
} finally {
  await Promise.all(devices.map((d) => d.destroy()));
}
