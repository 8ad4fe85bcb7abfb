/**
 * Hostile devices: SSH servers that misbehave where OpenSSH's sshd cannot (an ssh2 server in
 * this process), and real sshd set up against keyheal (a forced command, a sudo that needs a
 * tty, a host key that changes between detect and verify). Each is sent a reconnect (or a
 * resolve) through a real local runtime; each must end with exactly one failure record naming
 * the right cause, nothing changed on the device unless proven, and no raw control character
 * or secret in any log, record or API answer.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer, type Socket, connect as tcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2, { type Connection } from "ssh2";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { FailureView, RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Fleet, freePort, startFleet, TestDevice } from "../harness/fleet.ts";
import { type RuntimeProcess, startRuntimeProcess } from "../harness/local-runtime.ts";
import { endedRunOf, type List, registration } from "../harness/runtime-api.ts";
import { runtimeLeftovers, secretHits } from "./harness.ts";

const { Server: SshServer } = ssh2;
const password = inject("devicePassword");
const gen1 = generateKeyPair({ comment: "hostile-gen1" });
/** Imported after gen1: every device holds gen1 only, so each reconnect has a change to make. */
const gen2 = generateKeyPair({ comment: "hostile-gen2" });
const GEN1_BLOB = Buffer.from(gen1.authorizedKey.split(" ")[1] ?? "", "base64");
const MAIN = new URL("./runtime-main.ts", import.meta.url).pathname;
/** A control sequence a terminal obeys: it must never reach a log, record or answer raw. */
const ANSI = "\u001b[2J\u001b]0;owned\u0007\u001b[31m";

let runtime: RuntimeProcess;
let work: string;
let fleet: Fleet;
const closers: Array<() => void> = [];
/** Everything hostile servers read on any channel's stdin (a password must never be there). */
const channelInput: Buffer[] = [];

type Behaviour = (client: Connection) => void;

/** As a device holding generation 1: that key, or any password, logs in. */
function authenticate(ctx: ssh2.AuthContext) {
  if (ctx.method === "password") return ctx.accept();
  if (ctx.method === "publickey" && ctx.key.data.equals(GEN1_BLOB)) return ctx.accept();
  return ctx.reject(["publickey", "password"]);
}

/** Authenticates as {@link authenticate}, then hands each exec to `onExec`. */
function execServer(onExec: (stream: ssh2.ServerChannel, command: string) => void): Behaviour {
  return (client) => {
    client.on("authentication", authenticate);
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        session.on("exec", (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.on("data", (chunk: Buffer) => channelInput.push(chunk));
          onExec(stream, info.command);
        });
      });
    });
    client.on("error", () => {});
  };
}

/** An ssh2 server on loopback behaving as `behaviour`, registered with its host key pinned. */
async function hostileDevice(id: string, behaviour: Behaviour, serverOptions = {}) {
  const hostKey = generateKeyPair();
  const server = new SshServer({ hostKeys: [hostKey.privateKey], ...serverOptions }, behaviour);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  closers.push(() => server.close());
  const answer = await runtime.api("POST", "/devices", {
    id,
    host: "127.0.0.1",
    port,
    adminUser: "kh_hostile",
    hostKeyFingerprint: hostKey.fingerprint,
  });
  expect(answer.status).toBe(200);
}

/** A reconnect of `id` through the runtime; its run, ended, and that run's failure records. */
async function reconnect(id: string) {
  const started = await runtime.api<{ runId: string }>(
    "POST",
    "/events",
    deviceReconnectedEvent({ deviceId: id }),
  );
  expect(started.status).toBe(202);
  return outcome(id, started.body.runId);
}

async function outcome(id: string, runId: string) {
  const run = await endedRunOf(runtime, runId);
  const { body } = await runtime.api<List<FailureView>>("GET", `/failures?deviceId=${id}`);
  const failures = body.items.filter((f) => f.runId?.split(":").at(-1) === runId);
  return { run, failures };
}

function expectOneFailure(result: { run: RunView; failures: FailureView[] }, cause: string) {
  expect(result.run.status).toBe("FAILED");
  expect(result.failures.map((f) => f.cause)).toEqual([cause]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keyheal-hostile-"));
  fleet = await startFleet(3);
  runtime = await startRuntimeProcess({ dataDir: join(work, "data"), main: [MAIN] });
  for (const key of [gen1, gen2]) {
    const imported = await runtime.api("POST", "/keys/import", { privateKey: key.privateKey });
    expect(imported.status).toBe(201);
  }
});

afterAll(async () => {
  for (const close of closers) close();
  const exit = await runtime?.stop();
  await fleet?.stop();
  await rm("/etc/sudoers.d/kh_reliability_tty", { force: true });
  if (!work) return;
  const left = await runtimeLeftovers(join(work, "data"), `${exit?.stdout}${exit?.stderr}`);
  const hits = secretHits(left, [password]);
  const raw = Object.entries(left).filter(([, text]) => text.includes("\u001b"));
  console.log(
    `secret hygiene (hostile): ${hits.length} hits; raw escape sequences in ${raw.length} places`,
  );
  await rm(work, { recursive: true, force: true });
  expect(hits).toEqual([]);
  expect(raw.map(([where]) => where)).toEqual([]);
});

describe.sequential("hostile devices", () => {
  it("a device streaming megabytes of stdout fails with OUTPUT_TOO_LARGE", async () => {
    await hostileDevice(
      "hostile-flood",
      execServer((stream) => {
        // 8 MiB in 64 KiB writes, bounded; then exit 0.
        const chunk = Buffer.alloc(65_536, "A");
        for (let i = 0; i < 128 && !stream.destroyed; i++) stream.write(chunk);
        stream.exit(0);
        stream.end();
      }),
    );
    expectOneFailure(await reconnect("hostile-flood"), "OUTPUT_TOO_LARGE");
    expect(runtime.output().length).toBeLessThan(1_000_000);
  });

  it("ANSI escapes and control characters in banners and output reach no log, record or answer raw", async () => {
    await hostileDevice(
      "hostile-ansi",
      execServer((stream) => {
        stream.write(`${ANSI}not what you asked\r\n\0`);
        stream.stderr.write(`${ANSI}error\u0008\u0008\u0008\n`);
        stream.exit(1);
        stream.end();
      }),
      { banner: `${ANSI}Welcome\r\n`, greeting: `${ANSI}hello` },
    );
    const result = await reconnect("hostile-ansi");
    expectOneFailure(result, "REMOTE_PROTOCOL");
    const answers = [
      JSON.stringify(result),
      JSON.stringify((await runtime.api("GET", "/failures")).body),
      JSON.stringify((await runtime.api("GET", "/devices")).body),
      runtime.output(),
    ];
    for (const text of answers) expect(text).not.toContain("\u001b");
  });

  it("a fake password prompt gets no password: REMOTE_PROTOCOL, the password never on a channel", async () => {
    await hostileDevice(
      "hostile-prompt",
      execServer((stream) => {
        stream.write("[sudo] password for kh_hostile: ");
        setTimeout(() => {
          if (stream.destroyed) return;
          stream.exit(1);
          stream.end();
        }, 500);
      }),
    );
    const started = await runtime.api<{ runs: Array<{ runId: string }> }>(
      "POST",
      "/devices/resolve",
      { mode: "space-key", devices: [{ id: "hostile-prompt", adminUser: "kh_hostile" }], password },
    );
    expect(started.status).toBe(202);
    const result = await outcome("hostile-prompt", started.body.runs[0]?.runId ?? "");
    expectOneFailure(result, "REMOTE_PROTOCOL");
    expect(Buffer.concat(channelInput).toString("latin1")).not.toContain(password);
  });

  it("a port whose banner is not SSH fails with TIMEOUT, no credential sent", async () => {
    const sockets: Socket[] = [];
    const server: NetServer = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      socket.write("HTTP/1.1 400 Bad Request\r\nServer: \u001b[31mnginx\r\n\r\n");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    await runtime.api("POST", "/devices", {
      id: "hostile-http",
      host: "127.0.0.1",
      port,
      adminUser: "kh_hostile",
      hostKeyFingerprint: generateKeyPair().fingerprint,
    });
    expectOneFailure(await reconnect("hostile-http"), "TIMEOUT");
  });

  it("a server that authenticates and then opens no channel fails with TIMEOUT", async () => {
    await hostileDevice("hostile-nochannel", (client) => {
      client.on("authentication", authenticate);
      // Session requests are neither accepted nor rejected.
      client.on("ready", () => client.on("session", () => {}));
      client.on("error", () => {});
    });
    expectOneFailure(await reconnect("hostile-nochannel"), "TIMEOUT");
  });

  it("a server that accepts a channel and never answers fails with TIMEOUT", async () => {
    await hostileDevice(
      "hostile-silent",
      execServer(() => {}),
    );
    expectOneFailure(await reconnect("hostile-silent"), "TIMEOUT");
  });

  it("a forced command= on the key in use fails with REMOTE_PROTOCOL and changes nothing", async () => {
    const device = fleet.devices[0] as TestDevice;
    const original = Buffer.from(
      `command="echo forced; cat /etc/hostname" ${gen1.authorizedKey}\n`,
    );
    await device.resetHome(original);
    await runtime.api("POST", "/devices", { ...registration(device), id: "forced" });
    expectOneFailure(await reconnect("forced"), "REMOTE_PROTOCOL");
    expect((await device.readAuthorizedKeys()).equals(original)).toBe(true);
  });

  it("a sudo that needs a tty fails with SUDO_FAILED and creates nothing", async () => {
    const login = fleet.devices[1] as TestDevice;
    await login.resetHome();
    await writeFile(
      "/etc/sudoers.d/kh_reliability_tty",
      `Defaults:${login.user} requiretty\n${login.user} ALL=(ALL) ALL\n`,
      { mode: 0o440 },
    );
    await runtime.api("POST", "/devices", { ...registration(login), id: "tty" });
    const started = await runtime.api<{ runs: Array<{ runId: string }> }>(
      "POST",
      "/devices/resolve",
      {
        mode: "space-key",
        devices: [{ id: "tty", adminUser: "kh_not_created", loginUser: login.user }],
        password,
      },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expectOneFailure(await outcome("tty", started.body.runs[0]?.runId ?? ""), "SUDO_FAILED");
  });

  it("a host key that changes between detect and verify fails with HOST_KEY_MISMATCH, the file as it was", async () => {
    const device = fleet.devices[2] as TestDevice;
    const original = Buffer.from(`${gen1.authorizedKey}\n`);
    await device.resetHome(original);
    // A second sshd for the same user and home, with a host key of its own: what answers once
    // authorized_keys has changed (the verify connection) is "another machine".
    const dir = join(work, "impostor");
    await mkdir(dir);
    const impostor = new TestDevice("impostor", device.user, dir);
    await impostor.newHostKey();
    await impostor.start();
    closers.push(() => void impostor.stop());
    const sockets: Socket[] = [];
    const proxy = createServer(async (socket) => {
      sockets.push(socket);
      const changed = !(await device.readAuthorizedKeys()).equals(original);
      const upstream = tcp({ host: "127.0.0.1", port: changed ? impostor.port : device.port });
      sockets.push(upstream);
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      proxy.close();
    });
    await runtime.api("POST", "/devices", { ...registration(device), id: "swapped", port });
    // A second generation, so that the heal has something to write.
    const gen2 = generateKeyPair({ comment: "hostile-gen2" });
    expect(
      (await runtime.api("POST", "/keys/import", { privateKey: gen2.privateKey })).status,
    ).toBe(201);
    expectOneFailure(await reconnect("swapped"), "HOST_KEY_MISMATCH");
    expect((await device.readAuthorizedKeys()).equals(original)).toBe(true);
  });
});
