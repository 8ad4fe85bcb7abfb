#!/usr/bin/env node
/**
 * `npm start`: what works so far. Starts one device (a real OpenSSH sshd on loopback, running
 * as the current user with a sandboxed authorized_keys), then shows the engine's life cycle:
 * a key conflict detected, healed by the safe replacement protocol, and failures classified
 * with their handling steps.
 */
import { OperationFailedError } from "../lib/failures/errors.ts";
import { generateKeyPair } from "../lib/keys/index.ts";
import { SandboxDevice, SshdNotInstalledError } from "../lib/local/sandbox-sshd.ts";
import { detectKey } from "../lib/replace/detect-conflict.ts";
import { type DeviceTarget, type Generation, healDevice } from "../lib/replace/heal-device.ts";

async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const live = process.stdout.isTTY;
  if (live) process.stdout.write(`  … ${label}`);
  try {
    const value = await fn();
    process.stdout.write(
      `${live ? "\r" : ""}  ✓ ${label} (${Math.round(performance.now() - started)} ms)\n`,
    );
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
  const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "keyheal-gen-1" }) };
  const foreign = generateKeyPair({ comment: "alice@laptop" });
  const original = `# hand-written line, kept byte for byte\nfrom="127.0.0.1" ${foreign.authorizedKey}\n${gen1.key.authorizedKey}\n`;
  let sandbox: SandboxDevice;
  try {
    sandbox = await step("start a device: a real sshd on 127.0.0.1", () =>
      SandboxDevice.create(original),
    );
  } catch (error) {
    if (error instanceof SshdNotInstalledError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  try {
    const device: DeviceTarget = {
      id: "demo-1",
      host: sandbox.host,
      port: sandbox.port,
      adminUser: sandbox.user,
      authorizedKeysPath: sandbox.authorizedKeysFile,
    };
    console.log(
      `    127.0.0.1:${sandbox.port}, user ${sandbox.user}; generation 1 (${gen1.key.fingerprint}) installed`,
    );

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
    console.log(
      `    → ${detection.outcome}: the device holds generation ${detection.generation}; host key ${detection.hostKeyFingerprint} pinned`,
    );
    device.hostKeyFingerprint = detection.hostKeyFingerprint;

    const healed = await step(
      "heal: add by compare-and-swap, verify fresh, prune, verify again",
      () => healDevice({ device, generations }),
    );
    console.log(
      `    → ${healed.status}, generation ${healed.generation}, ${healed.handshakes} handshakes, steps: ${healed.steps.join(" → ")}`,
    );
    const after = await sandbox.readAuthorizedKeys();
    console.log("    authorized_keys now:");
    for (const line of after.split("\n").filter(Boolean))
      console.log(`      ${line.slice(0, 90)}${line.length > 90 ? "…" : ""}`);

    const again = await step("detect again", () => detectKey({ device, generations }));
    console.log(`    → ${again.outcome} (generation ${again.generation})`);

    const failures: string[][] = [];
    await sandbox.writeAuthorizedKeys(`${foreign.authorizedKey}\n`);
    failures.push(
      await expectFailure("tamper with authorized_keys, then heal", () =>
        healDevice({ device, generations }),
      ),
    );
    await sandbox.writeAuthorizedKeys(after);
    failures.push(
      await expectFailure("heal with a wrong pinned host key", () =>
        healDevice({ device: { ...device, hostKeyFingerprint: foreign.fingerprint }, generations }),
      ),
    );
    await sandbox.stop();
    failures.push(
      await expectFailure("stop sshd, then heal", () => healDevice({ device, generations })),
    );

    console.log("\n  failures recorded, with their handling steps:\n");
    console.log(`  ${"CAUSE".padEnd(20)} ${"OPERATION".padEnd(10)} HANDLING STEP`);
    for (const [cause, operation, hint] of failures) {
      console.log(`  ${(cause ?? "").padEnd(20)} ${(operation ?? "").padEnd(10)} ${hint}`);
    }
    console.log(
      "\nNext: the reconnect workflow, local mode with its console, and the AWS deployment.",
    );
    return 0;
  } finally {
    await sandbox.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `\nkeyheal demo failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  },
);
