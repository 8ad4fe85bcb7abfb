import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyView } from "../../lib/contract/api.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import {
  type ConsoleBrowser,
  type ConsoleEnv,
  choose,
  consoleUrl,
  type List,
  openBrowser,
  openPage,
  row,
  startConsoleEnv,
} from "./harness.ts";

const platform = generateKeyPair({ comment: "platform-gen1" });
let env: ConsoleEnv;
let browser: ConsoleBrowser;

beforeAll(async () => {
  env = await startConsoleEnv(3, { probeInterval: "0" });
  browser = await openBrowser("rotate");
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

describe("signing in to the console", () => {
  it("asks for the token, refuses a wrong one, and returns to sign-in when the API refuses it", async () => {
    const { page } = browser;
    await page.goto(`${env.runtime.url}/console/`);
    await page.getByRole("heading", { name: "Sign in to keyheal" }).waitFor();
    await page.getByLabel("API token").fill(`${env.runtime.token}x`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The runtime refused this token").first().waitFor();
    await browser.screenshot("sign-in-refused");

    await page.getByLabel("API token").fill(env.runtime.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: /^Devices/ }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: /^Devices/ }).waitFor();

    // No key yet: the keys page says so and offers to make one.
    await openPage(page, "Platform keys");
    await expect.poll(() => page.getByText("No platform key yet").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Create the first key" }).count()).toBe(1);

    // A token the runtime no longer accepts sends the tab back to sign-in.
    await page.evaluate("sessionStorage.setItem('keyheal.apiToken', 'revoked')");
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to keyheal" }).waitFor();
    expect(await page.getByText("Signed out").count()).toBe(1);
    expect(await page.evaluate("sessionStorage.getItem('keyheal.apiToken')")).toBeNull();
  });
});

describe("live refresh", () => {
  it("polls the API while the tab is visible and stops while it is hidden", async () => {
    const { page } = browser;
    await page.goto(consoleUrl(env.runtime));
    await page.getByRole("heading", { name: /^Devices/ }).waitFor();
    const calls: string[] = [];
    const count = (request: { url(): string }) => {
      if (new URL(request.url()).pathname === "/devices") calls.push(request.url());
    };
    page.on("request", count);
    try {
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBeGreaterThan(0);
      await page.evaluate(`
        Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      `);
      const hiddenAt = calls.length;
      // Longer than the devices page's refresh interval (3 s): no call may start while hidden.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      expect(calls.length).toBe(hiddenAt);
      await page.evaluate(`
        Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      `);
      await expect.poll(() => calls.length, { timeout: 2_000 }).toBeGreaterThan(hiddenAt);
    } finally {
      page.off("request", count);
    }
  });
});

describe("rotating the platform key from the console", () => {
  it("rotates to an ECDSA generation and shows the fan-out to its end, a device that is down included", async () => {
    const { page } = browser;
    const imported = await env.runtime.api<KeyView>("POST", "/keys/import", {
      privateKey: platform.privateKey,
    });
    expect(imported.status).toBe(201);
    for (const d of env.fleet.devices) await d.resetHome(`${platform.authorizedKey}\n`);
    const down = env.device(2);
    await down.stop();

    await page.goto(consoleUrl(env.runtime));
    await openPage(page, "Platform keys");
    await expect
      .poll(() => row(page, "Platform key generations", "Generation 1").textContent())
      .toContain("Current");
    await choose(page, "Key type", /^ECDSA/);
    await page.getByRole("button", { name: "Rotate key" }).click();
    const confirm = page.getByRole("dialog", { name: "Rotate the platform key?" });
    await expect.poll(() => confirm.textContent()).toContain("generation 2 (ECDSA)");
    await confirm.getByRole("button", { name: "Rotate", exact: true }).click();

    const rotation = page.getByRole("region", { name: "Key rotation" });
    await rotation.getByRole("progressbar", { name: "Rotation progress" }).waitFor();
    await expect
      .poll(() => rotation.textContent(), { timeout: 45_000 })
      .toContain("Rotation finished: 2 of 3 devices updated, 1 failed.");
    await browser.screenshot("rotation-finished");
    expect(await rotation.textContent()).toContain("1 device not updated");

    // The new generation is listed as current, the old one as previous.
    await expect
      .poll(() => row(page, "Platform key generations", "Generation 2").textContent())
      .toContain("Current");
    expect(await row(page, "Platform key generations", "Generation 2").textContent()).toMatch(
      /ecdsa/i,
    );
    expect(await row(page, "Platform key generations", "Generation 1").textContent()).toContain(
      "Previous",
    );

    const keys = (await env.runtime.api<List<KeyView>>("GET", "/keys")).body.items;
    expect(keys.map((k) => [k.generation, k.status])).toEqual([
      [2, "CURRENT"],
      [1, "PREVIOUS"],
    ]);
    expect(keys[0]?.algorithm).toMatch(/ecdsa/);
    for (const i of [0, 1]) {
      expect(await env.getDevice(env.device(i).id)).toMatchObject({
        status: "KEY_BASED",
        keyGeneration: 2,
      });
      expect((await env.device(i).readAuthorizedKeys()).toString()).toBe(`${keys[0]?.publicKey}\n`);
    }
    expect(await env.getDevice(down.id)).toMatchObject({
      status: "UNREACHABLE",
      lastFailureCause: "CONNECTION_REFUSED",
    });

    // The run behind it, with the fan-out counted.
    await page.getByRole("link", { name: "View the rotation run" }).click();
    await expect
      .poll(() => page.getByLabel("Run summary").textContent())
      .toContain("Rotate platform key");
    await expect
      .poll(() =>
        page
          .getByRole("progressbar", { name: "Fan-out progress" })
          .locator("xpath=..")
          .textContent(),
      )
      .toBeTruthy();
    expect(await page.getByText("3 of 3 devices done · 1 failed").count()).toBe(1);
    await browser.screenshot("rotation-run");
  });
});

describe("error states", () => {
  it("shows the API's own message, a missing run, and a runtime that stopped answering", async () => {
    const { page } = browser;
    await page.goto(consoleUrl(env.runtime));
    await openPage(page, "Failed tasks");
    // A device id the API refuses: its 400 message is shown as it is.
    await page.getByRole("combobox", { name: "Filter by device" }).fill("no such device");
    await page.getByRole("combobox", { name: "Filter by device" }).press("Enter");
    await page.getByText("Could not load failed tasks").waitFor();
    await page.getByText(/^Invalid request: deviceId: /).waitFor();
    expect(await page.getByText("No failed tasks match the filters").count()).toBe(0);
    await browser.screenshot("error-bad-filter");

    await page.goto(`${env.runtime.url}/console/#/runs/no-such-run`);
    await page.getByRole("heading", { name: "Run not found" }).waitFor();

    await openPage(page, "Devices");
    await page.getByRole("heading", { name: /^Devices/ }).waitFor();
    await env.runtime.stop();
    await expect
      .poll(() => page.getByText("The keyheal API is not answering").count(), { timeout: 10_000 })
      .toBe(1);
    await browser.screenshot("error-runtime-down");
  });
});
