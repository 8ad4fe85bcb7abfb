/**
 * The console's end-to-end harness: a real local runtime (child process) serving the built
 * console, real sshd devices on loopback, and Debian's Chromium driven by playwright-core.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import type { DeviceView, RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { eventually, type RuntimeProcess, startRuntimeProcess } from "../harness/local-runtime.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONSOLE_INDEX = join(ROOT, "web/dist/index.html");
/** Kept after the run (git-ignored): what each scenario looked like. */
export const SCREENSHOTS = join(ROOT, "test-results/e2e");

export type List<T> = { items: T[]; nextCursor: string | null };

/** Stops with the command to run when this machine cannot run the console tests. */
function requireConsoleHost(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium with \`apt-get install -y chromium\` (or run \`bash .ci/run\`).`,
    );
  }
  if (!existsSync(CONSOLE_INDEX)) {
    throw new Error(
      "web/dist is missing: build the console with `npm run build:web` (npm run test:e2e does).",
    );
  }
}

export interface ConsoleEnv {
  fleet: Fleet;
  runtime: RuntimeProcess;
  device(i: number): TestDevice;
  getDevice(id: string): Promise<DeviceView | undefined>;
  endedRun(runId: string): Promise<RunView>;
  /** A Device Reconnected event through the API; resolves with the run it started, ended. */
  reconnect(deviceId: string): Promise<RunView>;
  stop(): Promise<void>;
}

/**
 * `count` sshd devices registered from an inventory with their pinned host keys, and a runtime
 * over them. `probeInterval: "0"` turns the probe loop off, so nothing heals behind a test's back.
 */
export async function startConsoleEnv(
  count: number,
  options: { probeInterval?: string } = {},
): Promise<ConsoleEnv> {
  requireConsoleHost();
  const fleet = await startFleet(count);
  const dataDir = await mkdtemp(join(tmpdir(), "keyheal-e2e-"));
  const inventory = `${dataDir}-inventory.yaml`;
  const entries = fleet.devices.map(
    (d) =>
      `  - id: ${d.id}\n    host: ${d.host}\n    port: ${d.port}\n    adminUser: ${d.user}\n    hostKeyFingerprint: "${d.hostKeyFingerprint}"\n`,
  );
  await writeFile(inventory, `devices:\n${entries.join("")}`);
  let runtime: RuntimeProcess;
  try {
    runtime = await startRuntimeProcess({
      dataDir,
      inventory,
      ...(options.probeInterval ? { probeInterval: options.probeInterval } : {}),
    });
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  const getDevice = async (id: string) => {
    const { body } = await runtime.api<List<DeviceView>>("GET", "/devices?limit=100");
    return body.items.find((d) => d.id === id);
  };
  const endedRun = (runId: string) =>
    eventually(`run ${runId} to end`, async () => {
      const { body } = await runtime.api<RunView>("GET", `/runs/${encodeURIComponent(runId)}`);
      return body.status !== "RUNNING" && body;
    });
  return {
    fleet,
    runtime,
    device: (i) => fleet.devices[i] as TestDevice,
    getDevice,
    endedRun,
    async reconnect(deviceId) {
      const { status, body } = await runtime.api<{ runId: string }>(
        "POST",
        "/events",
        deviceReconnectedEvent({ deviceId }),
      );
      expect(status).toBe(202);
      return endedRun(body.runId);
    },
    async stop() {
      const exit = await runtime.stop();
      await fleet.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(inventory, { force: true });
      expect(exit.code, exit.stderr).toBe(0);
    },
  };
}

export interface ConsoleBrowser {
  page: Page;
  /** Saves test-results/e2e/<prefix>-<name>.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; nothing leaves loopback. */
export async function openBrowser(prefix: string): Promise<ConsoleBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "keyheal-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    page,
    async screenshot(name) {
      const path = join(SCREENSHOTS, `${prefix}-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
      // An uncaught exception in the console is a bug even when the scenario got through.
      expect(errors).toEqual([]);
    },
  };
}

/** The console's address with the token in the fragment, as the runtime prints it. */
export function consoleUrl(runtime: RuntimeProcess, route = ""): string {
  return `${runtime.url}/console/#token=${runtime.token}${route ? `&${route}` : ""}`;
}

/** A table row (Cloudscape renders rows as role=row) holding `text`. */
export function row(page: Page, table: string, text: string) {
  return page.getByRole("table", { name: table }).getByRole("row").filter({ hasText: text });
}

/** Picks `option` of the Cloudscape Select whose trigger is labelled `label`. */
export async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByRole("button", { name: label }).click();
  await page.getByRole("option", { name: option }).click();
}

/**
 * Follows a side-navigation link, opening the navigation first when the layout collapsed it
 * (Cloudscape closes it whenever the window seems too narrow, as during a full-page capture).
 */
export async function openPage(page: Page, name: string): Promise<void> {
  const link = page.getByRole("link", { name, exact: true });
  if (!(await link.isVisible()))
    await page.getByRole("button", { name: "Open navigation" }).click();
  await link.click();
}
