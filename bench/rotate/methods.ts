/**
 * The four ways the rotation bench rotates one fleet: keyheal, a raw ssh2 script, Ansible
 * `authorized_key`, and `xargs -P32` with OpenSSH's client. Each returns its wall time and the
 * controller's CPU and peak RSS, measured from outside the process (`/usr/bin/time`, or
 * `/proc/<pid>` for the long-lived runtime).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { KeyPair } from "../../lib/keys/types.ts";
import { RUNTIME_NODE_FLAGS } from "../../lib/local/memory.ts";
import { type BenchFleet, FOREIGN_LINES } from "./fleet.ts";
import type { Window } from "./profile.ts";

export interface Measured {
  wallMs: number;
  /** User + system CPU of the controller (every process it ran), ms. */
  cpuMs: number;
  /** Largest resident set of the controller's processes, kB. */
  peakRssKb: number;
  /** The new key's fingerprint, for the check. */
  newFingerprint: string;
}

const ROOT = resolve(import.meta.dirname, "../..");
const NODE = process.execPath;
const TICK_MS = 10; // USER_HZ is 100 on Linux

interface Timed {
  code: number;
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under `/usr/bin/time`, which reports the CPU and peak RSS of it and its children. */
export async function timed(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; out: string } = { out: "/dev/null" },
): Promise<Timed> {
  const report = `${options.out}.time`;
  const started = performance.now();
  const child = spawn("/usr/bin/time", ["-f", "%U %S %M", "-o", report, command, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString();
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    if (stdout.length < 1_000_000) stdout += chunk.toString();
  });
  child.stdin.end(options.input ?? "");
  const code = await new Promise<number>((done) => child.once("exit", (c) => done(c ?? 1)));
  const wallMs = performance.now() - started;
  const [user, sys, rss] =
    (await readFile(report, "utf8")).trim().split("\n").at(-1)?.split(" ") ?? [];
  return {
    code,
    wallMs,
    cpuMs: (Number(user) + Number(sys)) * 1000,
    peakRssKb: Number(rss),
    stdout,
    stderr,
  };
}

function sshArgs(fleet: BenchFleet, keyFile: string): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `IdentityFile=${keyFile}`,
    "-o",
    `UserKnownHostsFile=${fleet.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "KexAlgorithms=curve25519-sha256",
    "-o",
    "ControlMaster=no",
    "-o",
    "LogLevel=ERROR",
  ];
}

function blobOf(key: KeyPair): string {
  return key.authorizedKey.split(" ")[1] ?? "";
}

async function writeKey(dir: string, name: string, key: KeyPair): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, key.privateKey, { mode: 0o600 });
  return file;
}

function check(result: Timed, what: string): void {
  if (result.code !== 0)
    throw new Error(`${what} exited ${result.code}: ${result.stderr.slice(-2000)}`);
}

/** The raw ssh2 floor (bench/rotate/raw-ssh2.ts) in its own process. */
export async function rotateRaw(
  fleet: BenchFleet,
  dir: string,
  old: KeyPair,
  next: KeyPair,
): Promise<Measured> {
  const job = join(dir, "raw-job.json");
  await writeFile(
    job,
    JSON.stringify({
      devices: fleet.devices.map((d) => ({
        host: d.host,
        port: d.port,
        user: d.user,
        path: d.authorizedKeysFile,
        hostKeyFingerprint: d.hostKeyFingerprint,
      })),
      oldPrivateKey: old.privateKey,
      newPrivateKey: next.privateKey,
      oldBlob: blobOf(old),
      newLine: next.authorizedKey,
    }),
  );
  const result = await timed(NODE, [join(ROOT, "bench/rotate/raw-ssh2.ts"), job], {
    out: join(dir, "raw"),
  });
  check(result, "the raw ssh2 script");
  return { ...result, newFingerprint: next.fingerprint };
}

/** `xargs -P32`: per device, `ssh` with the old key runs the rewrite, `ssh` with the new key runs `true`. */
export async function rotateXargs(
  fleet: BenchFleet,
  dir: string,
  old: KeyPair,
  next: KeyPair,
): Promise<Measured> {
  const oldFile = await writeKey(dir, "xargs-old", old);
  const newFile = await writeKey(dir, "xargs-new", next);
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const script = join(dir, "xargs-one.sh");
  await writeFile(
    script,
    [
      "#!/bin/sh",
      "port=$1; f=$2",
      `ssh ${sshArgs(fleet, oldFile).join(" ")} -p "$port" root@127.0.0.1 "t=$f.new.\\$\\$ && { grep -vF ${quote(blobOf(old))} $f || [ \\$? -eq 1 ]; printf '%s\\n' ${quote(next.authorizedKey)}; } > \\"\\$t\\" && chmod 600 \\"\\$t\\" && mv -f \\"\\$t\\" $f" &&`,
      `ssh ${sshArgs(fleet, newFile).join(" ")} -p "$port" root@127.0.0.1 true`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const input = fleet.devices.map((d) => `${d.port} ${d.authorizedKeysFile}\n`).join("");
  const result = await timed("xargs", ["-P32", "-n2", script], { input, out: join(dir, "xargs") });
  check(result, "xargs -P32 ssh");
  return { ...result, newFingerprint: next.fingerprint };
}

/** Ansible `authorized_key`, exclusive (the foreign keys listed with the new one), forks 50, pipelining. */
export async function rotateAnsible(
  fleet: BenchFleet,
  dir: string,
  old: KeyPair,
  next: KeyPair,
): Promise<Measured> {
  const oldFile = await writeKey(dir, "ansible-old", old);
  const newFile = await writeKey(dir, "ansible-new", next);
  const inventory = join(dir, "hosts.ini");
  await writeFile(
    inventory,
    [
      "[fleet]",
      ...fleet.devices.map(
        (d, i) =>
          `d${i} ansible_host=127.0.0.1 ansible_port=${d.port} ak_path=${d.authorizedKeysFile}`,
      ),
      "[fleet:vars]",
      "ansible_user=root",
      "ansible_python_interpreter=/usr/bin/python3",
      "",
    ].join("\n"),
  );
  const playbook = join(dir, "rotate.yml");
  const keys = [FOREIGN_LINES[0], next.authorizedKey, FOREIGN_LINES[1]].join("\n");
  await writeFile(
    playbook,
    JSON.stringify([
      {
        hosts: "fleet",
        gather_facts: false,
        vars: { ansible_ssh_private_key_file: oldFile },
        tasks: [
          {
            name: "install the new key, exclusively",
            "ansible.posix.authorized_key": {
              user: "root",
              path: "{{ ak_path }}",
              key: keys,
              exclusive: true,
              manage_dir: false,
            },
          },
        ],
      },
      {
        hosts: "fleet",
        gather_facts: false,
        vars: { ansible_ssh_private_key_file: newFile },
        tasks: [{ name: "the new key logs in", "ansible.builtin.raw": "true" }],
      },
    ]),
  );
  const result = await timed("ansible-playbook", ["-i", inventory, "-f", "50", playbook], {
    env: {
      ANSIBLE_PIPELINING: "True",
      ANSIBLE_HOST_KEY_CHECKING: "True",
      ANSIBLE_SSH_ARGS: `-o ControlMaster=no -o KexAlgorithms=curve25519-sha256 -o UserKnownHostsFile=${fleet.knownHosts}`,
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_LOCAL_TEMP: join(dir, "ansible-tmp"),
      ANSIBLE_RETRY_FILES_ENABLED: "False",
    },
    out: join(dir, "ansible"),
  });
  check(result, "ansible-playbook");
  return { ...result, newFingerprint: next.fingerprint };
}

/** Process CPU (ms) and peak RSS (kB) of a live process, from /proc. */
async function procUsage(pid: number): Promise<{ cpuMs: number; peakRssKb: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const peakRssKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs, peakRssKb };
}

export interface LocalRuntimeProcess {
  dataDir: string;
  pid: number;
  child: ChildProcess;
  cli(args: string[], input?: string): Promise<Timed>;
  usage(): Promise<{ cpuMs: number; peakRssKb: number }>;
  stop(): Promise<void>;
}

const RUNTIME_ENV = { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" };

/** `keyheal local start` on a new data directory, as a process of its own. */
export async function startRuntime(
  dataDir: string,
  inventory: string,
  options: { cpuProfileDir?: string; probeInterval?: string } = {},
): Promise<LocalRuntimeProcess> {
  const child = spawn(
    NODE,
    [
      ...RUNTIME_NODE_FLAGS,
      ...(options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : []),
      join(ROOT, "bin/keyheal.ts"),
      "local",
      "start",
      "--data-dir",
      dataDir,
      "--inventory",
      inventory,
      "--probe-interval",
      options.probeInterval ?? "0",
    ],
    { env: { ...process.env, ...RUNTIME_ENV }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString();
  });
  for (let i = 0; i < 600 && !existsSync(join(dataDir, "api-url")); i++) {
    if (child.exitCode !== null) throw new Error(`the runtime exited ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(join(dataDir, "api-url")))
    throw new Error(`the runtime did not start: ${stderr}`);
  const pid = child.pid ?? 0;
  return {
    dataDir,
    pid,
    child,
    cli: (args, input) =>
      timed(NODE, [join(ROOT, "bin/keyheal.ts"), ...args], {
        env: { ...RUNTIME_ENV, KEYHEAL_DATA_DIR: dataDir },
        ...(input === undefined ? {} : { input }),
        out: join(dataDir, "..", `cli-${process.hrtime.bigint()}`),
      }),
    usage: () => procUsage(pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export async function writeInventory(fleet: BenchFleet, file: string): Promise<void> {
  const devices = fleet.devices.map((d, i) => ({
    id: `bench-${i}`,
    host: d.host,
    port: d.port,
    adminUser: d.user,
    hostKeyFingerprint: d.hostKeyFingerprint,
    authorizedKeysPath: d.authorizedKeysFile,
  }));
  await writeFile(file, JSON.stringify({ devices }));
}

/** keyheal: the old key imported as the current generation, then `keyheal keys rotate --wait`. */
export async function rotateKeyheal(
  fleet: BenchFleet,
  dir: string,
  old: KeyPair,
  options: { cpuProfileDir?: string; concurrency?: number | undefined } = {},
): Promise<Measured & { runtimePeakRssKb: number; window: Window; failures: string[] }> {
  const inventory = join(dir, "fleet.json");
  await writeInventory(fleet, inventory);
  const dataDir = join(dir, `kh-${process.hrtime.bigint()}`);
  const runtime = await startRuntime(dataDir, inventory, options);
  try {
    const oldFile = await writeKey(dir, "keyheal-old", old);
    check(await runtime.cli(["keys", "import", "--private-key", oldFile]), "keyheal keys import");
    const before = await runtime.usage();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const rotate = await runtime.cli([
      "keys",
      "rotate",
      "--wait",
      ...(options.concurrency ? ["--concurrency", String(options.concurrency)] : []),
    ]);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const after = await runtime.usage();
    check(rotate, "keyheal keys rotate --wait");
    const keys = await cliJson<{ items: Array<{ status: string; fingerprint: string }> }>(runtime, [
      "keys",
      "list",
    ]);
    const current = keys.items.find((k) => k.status === "CURRENT");
    if (!current) throw new Error("no CURRENT generation after the rotation");
    // What keyheal itself recorded, so a device the check finds unrotated comes with its cause.
    const failures = await cliJson<{
      items: Array<{ deviceId: string; cause: string; message: string }>;
    }>(runtime, ["failures", "list", "--limit", "20"]);
    return {
      wallMs: rotate.wallMs,
      cpuMs: after.cpuMs - before.cpuMs + rotate.cpuMs,
      peakRssKb: Math.max(after.peakRssKb, rotate.peakRssKb),
      runtimePeakRssKb: after.peakRssKb,
      newFingerprint: current.fingerprint,
      window: { fromUs, toUs },
      failures: failures.items.map((f) => `${f.deviceId} ${f.cause}: ${f.message}`),
    };
  } finally {
    await runtime.stop();
  }
}

/** `keyheal ARGS --json` against the runtime, parsed. */
async function cliJson<T>(runtime: LocalRuntimeProcess, args: string[]): Promise<T> {
  const child = spawn(NODE, [join(ROOT, "bin/keyheal.ts"), ...args, "--json"], {
    env: { ...process.env, ...RUNTIME_ENV, KEYHEAL_DATA_DIR: runtime.dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  await new Promise((r) => child.once("exit", r));
  return JSON.parse(text) as T;
}
