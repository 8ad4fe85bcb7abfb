#!/usr/bin/env node
/**
 * `npm start`: keyheal's main job on one machine. Starts the local runtime on ./.keyheal with a
 * demo fleet of real sshd devices (running as the current user, no root needed; in-process ssh2
 * servers when sshd is not installed, or with KEYHEAL_DEMO_DEVICES=simulated), then tells the
 * whole story with live progress: a key imported, a rotation while two devices are down, the
 * devices coming back and healed by the probe loop, three failures with their handling steps.
 * The runtime stays up afterwards for the CLI (`bin/keyheal …`) until Ctrl-C.
 */
import { ApiClient } from "../lib/cli/api-client.ts";
import { generateKeyPair } from "../lib/keys/index.ts";
import {
  createDemoDevice,
  DEMO_DEVICE_LABELS,
  type DemoDevice,
  demoDeviceKind,
} from "../lib/local/demo-device.ts";
import { DATA_DIR_ENV, dataDirOf } from "../lib/local/discovery.ts";
import { type LocalRuntime, startLocalRuntime } from "../lib/local/runtime.ts";

const DATA_DIR = dataDirOf(undefined, process.env[DATA_DIR_ENV], process.cwd());
const FLEET = 4;
const live = process.stdout.isTTY;

async function step<T>(
  label: string,
  fn: (progress: (text: string) => void) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const progress = (text: string) => {
    if (live) process.stdout.write(`\r\x1b[2K  … ${label}: ${text}`);
  };
  progress("");
  try {
    const value = await fn(progress);
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`${live ? "\r\x1b[2K" : ""}  ✓ ${label} (${ms} ms)\n`);
    return value;
  } catch (error) {
    process.stdout.write(`${live ? "\r\x1b[2K" : ""}  ✗ ${label}\n`);
    throw error;
  }
}

type View = Record<string, unknown>;

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  console.log("keyheal — local mode with a demo fleet\n");
  const devices: DemoDevice[] = [];
  let runtime: LocalRuntime | undefined;
  const shutdown = async () => {
    await runtime?.stop();
    await Promise.all(devices.map((d) => d.destroy()));
  };
  const kind = demoDeviceKind(
    process.env.KEYHEAL_DEMO_DEVICES === "simulated" ? "simulated" : undefined,
  );
  try {
    await step(
      `start ${FLEET} devices (${DEMO_DEVICE_LABELS[kind]} on 127.0.0.1)`,
      async (progress) => {
        for (let i = 0; i < FLEET; i++) {
          progress(`${i}/${FLEET}`);
          devices.push(await createDemoDevice("# hand-written line, kept byte for byte\n", kind));
        }
      },
    );
    runtime = await step(`start the local runtime on ${DATA_DIR}`, () =>
      startLocalRuntime({ dataDir: DATA_DIR, probeIntervalMs: 1000, probeTimeoutMs: 500 }),
    );
    const api = new ApiClient({ baseUrl: runtime.url, token: runtime.token, source: DATA_DIR });
    const ids = devices.map((_, i) => `demo-${i + 1}`);
    const register = (i: number, overrides: View = {}) => {
      const d = devices[i] as DemoDevice;
      return {
        id: ids[i],
        host: d.host,
        port: d.port,
        adminUser: d.user,
        hostKeyFingerprint: d.hostKeyFingerprint,
        authorizedKeysPath: d.authorizedKeysFile,
        ...overrides,
      };
    };
    await step("register the fleet", () =>
      api.request("POST", "/devices", { body: { devices: devices.map((_, i) => register(i)) } }),
    );

    const first = generateKeyPair({ comment: "keyheal-demo" });
    await step("1. import a platform key (generation 1) and install it on the fleet", async () => {
      await api.importKey({ privateKey: first.privateKey });
      for (const d of devices)
        await d.writeAuthorizedKeys(`${await d.readAuthorizedKeys()}${first.authorizedKey}\n`);
    });

    const down = [devices[2] as DemoDevice, devices[3] as DemoDevice];
    await step("2. rotate while demo-3 and demo-4 are down", async (progress) => {
      for (const d of down) await d.stop();
      const { runId } = await api.rotateKeys({ type: "ed25519" });
      const run = await until("the rotation", async () => {
        const r = (await api.request("GET", `/runs/${encodeURIComponent(runId)}`)) as View;
        progress(`run ${String(r.status)}`);
        return r.status === "RUNNING" ? undefined : r;
      });
      if (run.status !== "SUCCEEDED") throw new Error(`rotation ${String(run.status)}`);
    });

    const statusOf = async () => {
      const page = (await api.request("GET", "/devices", { query: { limit: 100 } })) as {
        items: View[];
      };
      return new Map(page.items.map((d) => [String(d.id), d]));
    };
    await step(
      "3. bring them back: the probe loop sees down→up and heals the conflicts",
      async (progress) => {
        for (const d of down) await d.start();
        await until("demo-3 and demo-4 to heal", async () => {
          const byId = await statusOf();
          const healed = ids.filter((id) => byId.get(id)?.status === "KEY_BASED").length;
          progress(`${healed}/${FLEET} devices KEY_BASED`);
          return healed === FLEET ? true : undefined;
        });
      },
    );

    await step(
      "4. inject three faults: tampered authorized_keys, a device stopped, host key changed",
      async (progress) => {
        await (devices[0] as DemoDevice).writeAuthorizedKeys(
          `${generateKeyPair().authorizedKey}\n`,
        );
        await (devices[1] as DemoDevice).stop();
        await api.request("POST", "/devices", {
          body: register(2, { hostKeyFingerprint: generateKeyPair().fingerprint }),
        });
        for (const id of ids.slice(0, 3)) {
          await api.request("POST", "/events", {
            body: {
              version: "0",
              id: crypto.randomUUID(),
              "detail-type": "Device Reconnected",
              source: "keyheal",
              account: "000000000000",
              time: new Date().toISOString(),
              region: "local",
              resources: [],
              detail: { deviceId: id, reason: "demo" },
            },
          });
        }
        await until("three failure records", async () => {
          const page = (await api.request("GET", "/failures", { query: { limit: 50 } })) as {
            items: View[];
          };
          progress(`${page.items.length}/3 failures recorded`);
          return page.items.length >= 3 ? true : undefined;
        });
      },
    );

    const byId = await statusOf();
    console.log(`\n  ${"DEVICE".padEnd(8)} ${"STATUS".padEnd(18)} ${"GEN".padEnd(4)} LAST FAILURE`);
    for (const id of ids) {
      const d = byId.get(id) ?? {};
      console.log(
        `  ${id.padEnd(8)} ${String(d.status).padEnd(18)} ${String(d.keyGeneration ?? "-").padEnd(4)} ${String(d.lastFailureCause ?? "-")}`,
      );
    }
    const failures = (await api.request("GET", "/failures", { query: { limit: 50 } })) as {
      items: View[];
    };
    console.log(`\n  ${"CAUSE".padEnd(20)} ${"DEVICE".padEnd(8)} HANDLING STEP`);
    for (const f of failures.items) {
      console.log(
        `  ${String(f.cause).padEnd(20)} ${String(f.deviceId).padEnd(8)} ${String(f.hint)}`,
      );
    }
    console.log(`\n  API      ${runtime.url}  (token in ${DATA_DIR}/api-token)`);
    // The token stays in its file (stdout lands in CI logs); `keyheal console` prints the link.
    console.log(
      `  Console  bin/keyheal console --data-dir ${DATA_DIR}   (prints the signed-in link)`,
    );
    console.log(
      "  Try      bin/keyheal devices list · bin/keyheal failures list · bin/keyheal keys rotate --wait",
    );
    // Interactive use keeps the runtime up; a non-interactive run (CI, pipes) ends here.
    if (!live || process.env.CI) {
      console.log(
        "  Not on a terminal: the runtime stops now (run it on a terminal to keep it up).\n",
      );
      return 0;
    }
    console.log("  The runtime keeps running; Ctrl-C stops it and the demo devices.\n");
    await new Promise<void>((resolveStop) => {
      process.once("SIGINT", () => resolveStop());
      process.once("SIGTERM", () => resolveStop());
    });
    return 0;
  } finally {
    await shutdown();
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
