/**
 * The `keyheal` CLI through a real runtime: `keyheal local start`'s runtime runs as a child
 * process on a data directory, the devices are real OpenSSH sshd processes on loopback, and
 * every command is `bin/keyheal` run as a child process that finds the runtime through
 * KEYHEAL_DATA_DIR. What is asserted is what a user sees: tables, `--json` shapes, exit codes.
 *
 * The tests run in order and share one runtime and fleet: each step builds on the state the
 * previous ones left (a rotation before a heal, failures before their deletion).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { progressBar } from "../../../lib/cli/wait.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { type CliResult, KEYHEAL, runKeyheal } from "../../harness/cli.ts";
import {
  type Fleet,
  freePort,
  REFUSING_HOST,
  startFleet,
  type TestDevice,
} from "../../harness/fleet.ts";
import { type RuntimeProcess, startRuntimeProcess } from "../../harness/local-runtime.ts";
import { run as exec } from "../../harness/system.ts";

const DEVICE_FIELDS = [
  "id",
  "host",
  "port",
  "adminUser",
  "status",
  "keyGeneration",
  "hostKeyFingerprint",
  "lastFailureCause",
];
const KEY_FIELDS = ["generation", "algorithm", "fingerprint", "status", "createdAt"];
const FAILURE_FIELDS = [
  "id",
  "deviceId",
  "operation",
  "cause",
  "message",
  "hint",
  "attempt",
  "keyGeneration",
  "runId",
  "occurredAt",
];
const RUN_FIELDS = ["id", "workflow", "deviceId", "status", "startedAt", "endedAt"];

interface Device {
  id: string;
  status: string;
  keyGeneration: number | null;
  lastFailureCause: string | null;
}
interface Failure {
  id: string;
  deviceId: string;
  cause: string;
  operation: string;
  runId: string;
  retriedByRunId: string | null;
}
interface Run {
  id: string;
  workflow: string;
  deviceId: string | null;
  status: string;
  progress: unknown;
}

const password = inject("devicePassword");
const PASSPHRASE = "correct horse battery";
let fleet: Fleet;
let work: string;
let dataDir: string;
let runtime: RuntimeProcess;
let stopped = false;
let gen1: { file: string; publicKey: string; fingerprint: string };
const device = (i: number) => fleet.devices[i] as TestDevice;

type Result = CliResult;

/** `bin/keyheal args…` against this file's runtime. */
function keyheal(args: string[], stdin = ""): Promise<Result> {
  return runKeyheal(args, { cwd: work, dataDir, stdin });
}

/** `keyheal args… --json`, which must succeed, parsed. */
async function json<T>(args: string[], stdin = ""): Promise<T> {
  const result = await keyheal([...args, "--json"], stdin);
  expect(result.code, `keyheal ${args.join(" ")}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/**
 * `bin/keyheal args…` on a pseudo-terminal (util-linux `script`), as at an operator's terminal:
 * stdout and stderr are the terminal. `react` sees the screen so far on every output, and may
 * type on the terminal.
 */
function onTerminal(
  args: string[],
  react: (screen: string, type: (text: string) => void) => void,
  timeoutMs = 60_000,
): Promise<Result> {
  const quoted = [KEYHEAL, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["--quiet", "--return", "--command", quoted, "/dev/null"], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: work,
        SHELL: "/bin/sh",
        KEYHEAL_DATA_DIR: dataDir,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let screen = "";
    const type = (text: string) => child.stdin.write(text);
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      react(screen, type);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: screen, stderr: "" });
    });
  });
}

/** The lines a terminal showed, each progress redraw (carriage return, line clear) its own. */
function drawnLines(screen: string): string[] {
  return screen
    .split("\r\u001b[2K")
    .flatMap((part) => part.split(/\r?\n/))
    .map((line) => line.trim())
    .filter(Boolean);
}

async function devices(): Promise<Map<string, Device>> {
  const { items } = await json<{ items: Device[] }>(["devices", "list"]);
  return new Map(items.map((each) => [each.id, each]));
}

async function failures(...filters: string[]): Promise<Failure[]> {
  return (await json<{ items: Failure[] }>(["failures", "list", ...filters])).items;
}

async function writeInventory(
  entries: { id: string; port: number; user: string; fp?: string; host?: string }[],
) {
  const file = join(work, "fleet.yaml");
  await writeFile(
    file,
    `devices:\n${entries
      .map(
        (each) =>
          `  - id: ${each.id}\n    host: ${each.host ?? "127.0.0.1"}\n    port: ${each.port}\n    adminUser: ${each.user}\n${each.fp ? `    hostKeyFingerprint: "${each.fp}"\n` : ""}`,
      )
      .join("")}`,
  );
  return file;
}

const inventoryOf = (list: TestDevice[]) =>
  list.map((d) => ({ id: d.id, port: d.port, user: d.user, fp: d.hostKeyFingerprint }));

beforeAll(async () => {
  fleet = await startFleet(4);
  work = await mkdtemp(join(tmpdir(), "keyheal-cli-it-"));
  dataDir = join(work, "data");
  // An encrypted OpenSSH key, as an operator would bring it.
  const file = join(work, "gen1");
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "gen1", "-f", file]);
  const publicKey = (await readFile(`${file}.pub`, "utf8")).trim();
  const fingerprint = (await exec("ssh-keygen", ["-lf", `${file}.pub`])).stdout.split(" ")[1];
  gen1 = { file, publicKey, fingerprint: fingerprint as string };
  for (const d of fleet.devices) await d.resetHome(`${publicKey}\n`);
  // No probing: reconnects come from the commands under test only.
  runtime = await startRuntimeProcess({ dataDir, probeInterval: "0" });
});

afterAll(async () => {
  const exit = stopped ? undefined : await runtime?.stop();
  await fleet?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  if (exit) expect(exit.code).toBe(0);
});

describe("keyheal against a local runtime", () => {
  it("devices import registers an inventory; devices list filters by status", async () => {
    const file = await writeInventory(inventoryOf(fleet.devices));
    const imported = await keyheal(["devices", "import", file]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Imported 4 devices from ${file}.`);
    expect(imported.stdout).toMatch(
      /^ID\s+HOST\s+PORT\s+ADMIN\s+STATUS\s+GEN\s+LAST FAILURE\s+HOST KEY$/m,
    );

    const listed = await json<{ items: Record<string, unknown>[]; nextCursor: null }>([
      "devices",
      "list",
      "--status",
      "unknown",
    ]);
    expect(listed.nextCursor).toBeNull();
    expect(listed.items.map((each) => each.id).sort()).toEqual(fleet.devices.map((d) => d.id));
    for (const each of listed.items) {
      expect(Object.keys(each).slice(0, DEVICE_FIELDS.length)).toEqual(DEVICE_FIELDS);
      expect(each).toMatchObject({ status: "UNKNOWN", keyGeneration: null, host: "127.0.0.1" });
    }
    const table = await keyheal(["devices", "list", "--status", "UNKNOWN"]);
    expect(table.stdout).toMatch(
      new RegExp(
        `^${device(0).id}\\s+127\\.0\\.0\\.1\\s+${device(0).port}\\s+${device(0).user}\\s+UNKNOWN\\s+-\\s+-\\s+SHA256:`,
        "m",
      ),
    );
    const none = await keyheal(["devices", "list", "--status", "KEY_BASED"]);
    expect(none).toMatchObject({ code: 0, stdout: "No devices with status KEY_BASED.\n" });
  });

  it("keys import takes an encrypted key with its passphrase on stdin, and refuses a wrong one", async () => {
    const wrong = await keyheal(
      ["keys", "import", "--private-key", gen1.file, "--passphrase-stdin"],
      "not the passphrase\n",
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/passphrase/i);
    expect(wrong.stderr).toContain("(POST /keys/import: 400)");

    const imported = await keyheal(
      ["keys", "import", "--private-key", gen1.file, "--passphrase-stdin"],
      `${PASSPHRASE}\n`,
    );
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("Imported as generation 1.");
    expect(imported.stdout).toContain(gen1.fingerprint);
    expect(imported.stdout + imported.stderr).not.toContain(PASSPHRASE);
    const keys = await json<{ items: Record<string, unknown>[] }>(["keys", "list"]);
    expect(keys.items).toHaveLength(1);
    expect(Object.keys(keys.items[0] ?? {}).slice(0, KEY_FIELDS.length)).toEqual(KEY_FIELDS);
    expect(keys.items[0]).toMatchObject({
      generation: 1,
      fingerprint: gen1.fingerprint,
      status: "CURRENT",
    });
  });

  let rotation: Run;

  it("keys rotate --wait on a terminal shows the fan-out live: installed, failed, of all", async () => {
    await device(3).stop();
    // Devices 1 and 2 have their sshd paused: their connections wait in the listen backlog.
    // Device 1 is let go after a moment, which makes the runtime rewrite the run's record with
    // the fan-out so far; device 2 once the terminal has shown it.
    const paused = new Map<number, number>();
    for (const i of [1, 2]) {
      const pid = Number((await readFile(join(device(i).dir, "sshd.pid"), "utf8")).trim());
      process.kill(pid, "SIGSTOP");
      paused.set(i, pid);
    }
    const resume = (i: number) => {
      const pid = paused.get(i);
      if (pid !== undefined) process.kill(pid, "SIGCONT");
      paused.delete(i);
    };
    let shown: Result;
    let timer: NodeJS.Timeout | undefined;
    try {
      // No canary: the test holds two devices and stops a third, and watches the whole fan-out.
      shown = await onTerminal(["keys", "rotate", "--wait", "--canary", "0"], (screen) => {
        if (timer === undefined && screen.includes("rotate rotate-")) {
          timer = setTimeout(() => resume(1), 1_500);
        }
        if (/installed [12]\/4 · 1 failed/.test(screen)) resume(2);
      });
    } finally {
      clearTimeout(timer);
      resume(1);
      resume(2);
    }
    expect(shown.code, shown.stdout).toBe(0);
    // Each line's bar is the devices ended (installed or failed) of the four.
    const live = drawnLines(shown.stdout).flatMap((line) => {
      const [, ok] =
        /installed (\d)\/4 · 1 failed(?: · [\d.]+ devices\/s(?: · ETA \S+)?)? · [\d.]+m?s$/.exec(
          line,
        ) ?? [];
      if (ok === undefined) return [];
      expect(line).toMatch(new RegExp(`^. rotate: ${progressBar(Number(ok) + 1, 4)} installed`));
      return [Number(ok)];
    });
    // Mid-run: device 0 installed, device 3 failed, device 2 still waiting (device 1 perhaps).
    expect(live.some((ok) => ok === 1 || ok === 2)).toBe(true);
    const runId = /^(\S+)\s+rotate\s+-\s+SUCCEEDED\s/m.exec(shown.stdout)?.[1];
    rotation = await json<Run>(["runs", "show", runId as string]);
    expect(rotation).toMatchObject({
      workflow: "rotate",
      status: "SUCCEEDED",
      progress: { total: 4, done: 4, failed: 1 },
    });

    const keys = await keyheal(["keys", "list"]);
    expect(keys.stdout).toMatch(/^2\s+\S+\s+SHA256:\S+\s+CURRENT\s/m);
    expect(keys.stdout).toMatch(
      new RegExp(`^1\\s+\\S+\\s+${gen1.fingerprint.replace(/[+/]/g, "\\$&")}\\s+PREVIOUS\\s`, "m"),
    );

    const now = await devices();
    for (const i of [0, 1, 2]) {
      expect(now.get(device(i).id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 2 });
    }
    expect(now.get(device(3).id)).toMatchObject({
      status: "UNREACHABLE",
      lastFailureCause: "CONNECTION_REFUSED",
    });
  });

  it("runs show prints a run's steps; --json gives the run shape", async () => {
    const shown = await keyheal(["runs", "show", rotation.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Run:       ${rotation.id}\n`);
    expect(shown.stdout).toContain("Workflow:  rotate\n");
    expect(shown.stdout).toContain("Status:    SUCCEEDED\n");
    expect(shown.stdout).toMatch(/^STEP\s+TYPE\s+STATUS\s+STARTED\s+DURATION\s+NOTE$/m);
    const asJson = await json<Run>(["runs", "show", rotation.id]);
    expect(Object.keys(asJson).slice(0, RUN_FIELDS.length)).toEqual(RUN_FIELDS);
    expect(asJson).toMatchObject({ id: rotation.id, status: "SUCCEEDED", deviceId: null });
  });

  it("events reconnect --wait heals a device that came back holding generation 1", async () => {
    await device(3).start();
    // It may listen on another port now: importing again updates its address.
    const file = await writeInventory(inventoryOf(fleet.devices));
    expect((await keyheal(["devices", "import", file])).code).toBe(0);
    const healed = await json<{ items: Run[]; nextCursor: null }>([
      "events",
      "reconnect",
      device(3).id,
      "--wait",
    ]);
    expect(healed.nextCursor).toBeNull();
    expect(Object.keys(healed.items[0] ?? {}).slice(0, RUN_FIELDS.length)).toEqual(RUN_FIELDS);
    expect(healed.items[0]).toMatchObject({
      workflow: "reconnect",
      deviceId: device(3).id,
      status: "SUCCEEDED",
      endedAt: expect.any(String),
    });
    expect((await devices()).get(device(3).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
      lastFailureCause: null,
    });
    const held = (await device(3).readAuthorizedKeys()).toString();
    expect(held).not.toContain(gen1.publicKey);
  });

  it("a device whose key was changed by hand fails to reconnect, then resolve --space-key heals it", async () => {
    await device(0).resetHome(`${generateKeyPair({ comment: "by-hand" }).authorizedKey}\n`);
    const failed = await keyheal(["events", "reconnect", device(0).id, "--wait"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAILED\s+\S+\s+\S+\s+AUTH_REJECTED/);
    expect(failed.stderr).toContain("keyheal runs show");
    expect((await devices()).get(device(0).id)).toMatchObject({
      status: "KEY_CONFLICT",
      lastFailureCause: "AUTH_REJECTED",
    });

    const resolved = await keyheal(
      [
        "resolve",
        device(0).id,
        "--space-key",
        "--admin",
        device(0).user,
        "--password-stdin",
        "--wait",
      ],
      `${password}\n`,
    );
    expect(resolved.stderr).toBe("");
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(/^Job: job-\S+$/m);
    expect(resolved.stdout).toMatch(new RegExp(`\\s+resolve\\s+${device(0).id}\\s+SUCCEEDED\\s`));
    expect(resolved.stdout).not.toContain(password);
    expect((await devices()).get(device(0).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
  });

  it("resolve --custom-key starts a job that jobs show follows to its end", async () => {
    const custom = generateKeyPair({ type: "ecdsa", comment: "operator-own" });
    const keyFile = join(work, "operator-key");
    await writeFile(keyFile, custom.privateKey, { mode: 0o600 });
    await device(1).resetHome(`${custom.authorizedKey}\n`);
    const started = await json<{ jobId: string; runs: { deviceId: string; runId: string }[] }>([
      "resolve",
      `${device(1).user}@${device(1).id}`,
      "--custom-key",
      keyFile,
    ]);
    expect(started.runs).toEqual([{ deviceId: device(1).id, runId: expect.any(String) }]);

    const job = await json<Record<string, unknown>>(["jobs", "show", started.jobId, "--wait"]);
    expect(Object.keys(job).slice(0, 9)).toEqual([
      "id",
      "kind",
      "status",
      "total",
      "succeeded",
      "failed",
      "running",
      "createdAt",
      "runs",
    ]);
    expect(job).toMatchObject({
      id: started.jobId,
      kind: "resolve",
      status: "SUCCEEDED",
      total: 1,
      succeeded: 1,
      failed: 0,
      running: 0,
      runs: [{ deviceId: device(1).id, runId: started.runs[0]?.runId, status: "SUCCEEDED" }],
    });
    const shown = await keyheal(["jobs", "show", started.jobId]);
    expect(shown.stdout).toContain("Runs:     1/1 succeeded\n");
    expect(shown.stdout).toMatch(new RegExp(`^${device(1).id}\\s+\\S+\\s+SUCCEEDED\\s+-$`, "m"));
    const held = (await device(1).readAuthorizedKeys()).toString();
    expect(held).toContain(custom.authorizedKey);
    expect((await devices()).get(device(1).id)).toMatchObject({
      status: "KEY_BASED",
      keyGeneration: 2,
    });
  });

  it("failures list filters, show gives the handling step, stats count by cause", async () => {
    // Two devices that refuse connections: more failures, of another cause.
    const ghosts = [
      { id: "ghost-a", host: REFUSING_HOST, port: await freePort(), user: "root" },
      { id: "ghost-b", host: REFUSING_HOST, port: await freePort(), user: "root" },
    ];
    expect((await keyheal(["devices", "import", await writeInventory(ghosts)])).code).toBe(0);
    for (const ghost of ghosts) {
      expect((await keyheal(["events", "reconnect", ghost.id, "--wait"])).code).toBe(1);
    }

    const all = await failures();
    const causes = all.map((each) => `${each.deviceId} ${each.cause}`).sort();
    expect(causes).toEqual([
      `${device(0).id} AUTH_REJECTED`,
      `${device(3).id} CONNECTION_REFUSED`,
      "ghost-a CONNECTION_REFUSED",
      "ghost-b CONNECTION_REFUSED",
    ]);
    for (const each of all) {
      expect(Object.keys(each).slice(0, FAILURE_FIELDS.length)).toEqual(FAILURE_FIELDS);
    }
    expect((await failures("--cause", "auth_rejected")).map((each) => each.deviceId)).toEqual([
      device(0).id,
    ]);
    expect((await failures("--device", "ghost-a")).map((each) => each.cause)).toEqual([
      "CONNECTION_REFUSED",
    ]);
    expect(await failures("--since", "1h")).toHaveLength(4);
    expect(await failures("--since", "2020-01-01", "--device", "nobody")).toEqual([]);
    const table = await keyheal(["failures", "list", "--device", "ghost-a"]);
    expect(table.stdout).toMatch(
      /^ID\s+DEVICE\s+OPERATION\s+CAUSE\s+ATTEMPT\s+GEN\s+OCCURRED\s+HANDLING STEP$/m,
    );
    expect(table.stdout).toMatch(/ghost-a\s+\S+\s+CONNECTION_REFUSED\s+1\s/);

    const ghostA = (await failures("--device", "ghost-a"))[0] as Failure;
    const shown = await keyheal(["failures", "show", ghostA.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Failure:         ${ghostA.id}\n`);
    expect(shown.stdout).toMatch(/^Handling step:\s+Start sshd/m);
    expect(await json(["failures", "show", ghostA.id])).toEqual(ghostA);

    const stats = await json<{ total: number; items: { cause: string; count: number }[] }>([
      "failures",
      "stats",
      "--since",
      "1h",
    ]);
    expect(stats).toMatchObject({
      total: 4,
      items: [
        { cause: "CONNECTION_REFUSED", count: 3, hint: expect.stringContaining("sshd") },
        { cause: "AUTH_REJECTED", count: 1 },
      ],
    });
    const human = await keyheal(["failures", "stats", "--device", "ghost-b"]);
    expect(human.stdout).toMatch(
      /^1 failure \(device ghost-b\)\.\nCAUSE\s+COUNT\s+HANDLING STEP\nCONNECTION_REFUSED\s+1\s+Start sshd/,
    );
  });

  it("failures retry --wait starts a linked run; exit 1 while the device still refuses", async () => {
    const [auth] = await failures("--cause", "AUTH_REJECTED");
    const healed = await keyheal(["failures", "retry", (auth as Failure).id, "--wait"]);
    expect(healed.stderr).toBe("");
    expect(healed.code).toBe(0);
    expect(healed.stdout).toMatch(new RegExp(`\\s+reconnect\\s+${device(0).id}\\s+SUCCEEDED\\s`));

    const [ghost] = await failures("--device", "ghost-a");
    const retried = await keyheal(["failures", "retry", (ghost as Failure).id, "--wait", "--json"]);
    expect(retried.code).toBe(1);
    const [rerun] = (JSON.parse(retried.stdout) as { items: Run[] }).items;
    expect(rerun).toMatchObject({ workflow: "reconnect", deviceId: "ghost-a", status: "FAILED" });
    expect(retried.stderr).toContain(`keyheal runs show ${rerun?.id}`);
    const linked = await json<Failure>(["failures", "show", (ghost as Failure).id]);
    expect(linked.retriedByRunId).toBe(rerun?.id);
    const attempts = (await failures("--device", "ghost-a")).map(
      (each) => (each as Failure & { attempt: number }).attempt,
    );
    expect(attempts).toEqual([2, 1]);
  });

  it("failures delete removes one record; --all asks on a terminal and needs --yes elsewhere", async () => {
    const [one] = await failures("--device", "ghost-b");
    const deleted = await keyheal(["failures", "delete", (one as Failure).id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted failure ${(one as Failure).id}.\n` });
    const gone = await keyheal(["failures", "show", (one as Failure).id]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`(GET /failures/${(one as Failure).id}: 404)`);

    const refused = await keyheal(["failures", "delete", "--all"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("add --yes");
    const before = await failures();
    expect(before.length).toBeGreaterThan(2);
    /** Answers the confirmation prompt once, on the terminal. */
    const answer = (text: string) => {
      let answered = false;
      return (screen: string, type: (text: string) => void) => {
        if (!answered && screen.includes("[y/N] ")) {
          answered = true;
          type(text);
        }
      };
    };
    const declined = await onTerminal(["failures", "delete", "--all"], answer("n\r"));
    expect(declined.code).toBe(0);
    expect(declined.stdout).toContain(`Delete ${before.length} failure records? [y/N] `);
    expect(drawnLines(declined.stdout).at(-1)).toBe("Nothing deleted.");
    expect(await failures()).toHaveLength(before.length);

    const refusedOnly = before.filter((each) => each.cause === "CONNECTION_REFUSED").length;
    const some = await json<{ deleted: number }>([
      "failures",
      "delete",
      "--all",
      "--yes",
      "--cause",
      "CONNECTION_REFUSED",
    ]);
    expect(some).toEqual({ deleted: refusedOnly });
    expect((await failures()).every((each) => each.cause !== "CONNECTION_REFUSED")).toBe(true);

    const left = before.length - refusedOnly;
    const records = `failure${left === 1 ? "" : "s"}`;
    const confirmed = await onTerminal(["failures", "delete", "--all"], answer("y\r"));
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain(
      `Delete ${left} failure record${left === 1 ? "" : "s"}? [y/N] `,
    );
    expect(drawnLines(confirmed.stdout)).toContainEqual(
      expect.stringContaining(
        `deleting failures: ${progressBar(left, left)} deleted ${left}/${left}`,
      ),
    );
    expect(drawnLines(confirmed.stdout).at(-1)).toBe(`Deleted ${left} ${records}.`);
    expect((await keyheal(["failures", "list"])).stdout).toBe("No failures.\n");
    expect(await json(["failures", "stats"])).toMatchObject({ total: 0, items: [] });
  });

  it("bad input exits 2 with a message naming the problem", async () => {
    const cases: [string[], string][] = [
      [["devices", "list", "--status", "BROKEN"], "--status must be one of"],
      [["keys", "rotate", "--type", "dsa"], "--type must be one of ed25519, rsa, ecdsa"],
      [["runs", "show", "no-such-run"], "(GET /runs/no-such-run: 404)"],
      [["jobs", "show", "job-unknown"], "(GET /jobs/job-unknown: 404)"],
      [["failures", "list", "--since", "yesterday"], "--since must be a duration"],
      [["resolve", "nobody", "--space-key", "--admin", "ops", "--password-stdin"], "nobody"],
    ];
    for (const [args, message] of cases) {
      const result = await keyheal(args, "pw\n");
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(message);
    }
    const inventory = join(work, "bad.yaml");
    await writeFile(inventory, "devices:\n  - { id: x, host: h, port: 70000, adminUser: ops }\n");
    const bad = await keyheal(["devices", "import", inventory]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("devices[0].port");
  });

  it("exits 2 with how to start the runtime once it is down", async () => {
    const url = runtime.url;
    stopped = true;
    expect((await runtime.stop()).code).toBe(0);
    const gone = await keyheal(["devices", "list"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`no keyheal runtime found: ${dataDir}/api-url does not exist`);
    expect(gone.stderr).toContain(`keyheal local start --data-dir ${dataDir}`);
    // A runtime that died without cleaning up leaves its URL behind: nothing answers there.
    await writeFile(join(dataDir, "api-url"), `${url}\n`);
    await writeFile(join(dataDir, "api-token"), "stale\n");
    const dead = await keyheal(["devices", "list"]);
    expect(dead.code).toBe(2);
    expect(dead.stderr).toContain(`cannot reach the keyheal API at ${url} (ECONNREFUSED)`);
  });
});
