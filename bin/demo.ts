#!/usr/bin/env node
/**
 * `npm start`: what works so far. Starts one device (a real OpenSSH sshd on loopback, running
 * as the current user with a sandboxed authorized_keys), then shows the engine's life cycle:
 * a key conflict detected, healed by the safe replacement protocol, and failures classified
 * with their handling steps.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { OperationFailedError } from "../lib/failures/errors.ts";
import { generateKeyPair } from "../lib/keys/index.ts";
import { detectKey } from "../lib/replace/detect-conflict.ts";
import { type DeviceTarget, type Generation, healDevice } from "../lib/replace/heal-device.ts";

const SSHD = "/usr/sbin/sshd";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no free port on 127.0.0.1");
  return address.port;
}

async function waitForBanner(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host: "127.0.0.1", port });
      s.once("data", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port}`);
}

async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const live = process.stdout.isTTY;
  if (live) process.stdout.write(`  … ${label}`);
  try {
    const value = await fn();
    process.stdout.write(`${live ? "\r" : ""}  ✓ ${label} (${Math.round(performance.now() - started)} ms)\n`);
    return value;
  } catch (error) {
    process.stdout.write(`${live ? "\r" : ""}  ✗ ${label}\n`);
    throw error;
  }
}

async function expectFailure(label: string, fn: () => Promise<unknown>): Promise<string[]> {
  return step(label, async () => {
    try {
      await fn();
    } catch (error) {
      if (error instanceof OperationFailedError) return [error.code, error.operation, error.hint];
      throw error;
    }
    throw new Error("expected a failure");
  });
}

async function main(): Promise<number> {
  console.log("keyheal — the safe key-replacement engine on one device\n");
  if (!existsSync(SSHD)) {
    console.error(
      `${SSHD} not found: the demo device is a real OpenSSH server. Install it (apt-get install -y openssh-server) and run npm start again.`,
    );
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), "keyheal-demo-"));
  const keysFile = join(dir, "authorized_keys");
  const port = await freePort();
  const user = userInfo().username;
  const hostKey = join(dir, "host_ed25519");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  await writeFile(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${keysFile}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "",
    ].join("\n"),
  );
  const sshd = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  const cleanup = async () => {
    sshd.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await step(`start a device: sshd on 127.0.0.1:${port}, user ${user}`, () => waitForBanner(port));

    const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "keyheal-gen-1" }) };
    const foreign = generateKeyPair({ comment: "alice@laptop" });
    const original = `# hand-written line, kept byte for byte\nfrom="127.0.0.1" ${foreign.authorizedKey}\n${gen1.key.authorizedKey}\n`;
    await writeFile(keysFile, original, { mode: 0o600 });
    const device: DeviceTarget = {
      id: "demo-1",
      host: "127.0.0.1",
      port,
      adminUser: user,
      authorizedKeysPath: keysFile,
    };
    console.log(`    generation 1: ${gen1.key.fingerprint} (ed25519) is installed`);

    const gen2: Generation = {
      generation: 2,
      key: await step("rotate the platform key while the device is away: generation 2", async () =>
        generateKeyPair({ comment: "keyheal-gen-2" }),
      ),
    };
    const generations = [gen2, gen1];

    const detection = await step("detect on reconnect (one connection, newest key first)", () =>
      detectKey({ device, generations }),
    );
    console.log(`    → ${detection.outcome}: the device holds generation ${detection.generation}; host key ${detection.hostKeyFingerprint} pinned`);
    device.hostKeyFingerprint = detection.hostKeyFingerprint;

    const healed = await step("heal: add by compare-and-swap, verify fresh, prune, verify again", () =>
      healDevice({ device, generations }),
    );
    console.log(`    → ${healed.status}, generation ${healed.generation}, ${healed.handshakes} handshakes, steps: ${healed.steps.join(" → ")}`);
    const after = await readFile(keysFile, "utf8");
    console.log("    authorized_keys now:");
    for (const line of after.split("\n").filter(Boolean)) console.log(`      ${line.slice(0, 90)}${line.length > 90 ? "…" : ""}`);

    const again = await step("detect again", () => detectKey({ device, generations }));
    console.log(`    → ${again.outcome} (generation ${again.generation})`);

    const failures: string[][] = [];
    await writeFile(keysFile, `${foreign.authorizedKey}\n`);
    failures.push(await expectFailure("tamper with authorized_keys, then heal", () => healDevice({ device, generations })));
    await writeFile(keysFile, after);
    failures.push(
      await expectFailure("heal with a wrong pinned host key", () =>
        healDevice({ device: { ...device, hostKeyFingerprint: foreign.fingerprint }, generations }),
      ),
    );
    sshd.kill("SIGTERM");
    await new Promise((r) => sshd.once("exit", r));
    failures.push(await expectFailure("stop sshd, then heal", () => healDevice({ device, generations })));

    console.log("\n  failures recorded, with their handling steps:\n");
    console.log(`  ${"CAUSE".padEnd(20)} ${"OPERATION".padEnd(10)} HANDLING STEP`);
    for (const [cause, operation, hint] of failures) {
      console.log(`  ${(cause ?? "").padEnd(20)} ${(operation ?? "").padEnd(10)} ${hint}`);
    }
    console.log("\nNext: the reconnect workflow, local mode with its console, and the AWS deployment.");
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\nkeyheal demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
