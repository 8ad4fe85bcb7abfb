import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KeyView } from "../../lib/contract/api.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import {
  type ConsoleBrowser,
  type ConsoleEnv,
  choose,
  consoleUrl,
  openBrowser,
  openPage,
  row,
  startConsoleEnv,
} from "./harness.ts";

const password = inject("devicePassword");
const platform = generateKeyPair({ comment: "platform-gen1" });
let env: ConsoleEnv;
let browser: ConsoleBrowser;

beforeAll(async () => {
  env = await startConsoleEnv(2, { probeInterval: "0" });
  const imported = await env.runtime.api<KeyView>("POST", "/keys/import", {
    privateKey: platform.privateKey,
  });
  expect(imported.status).toBe(201);
  // Both devices hold a key keyheal does not know: a reconnect finds them in key conflict.
  await env.device(0).resetHome(`${generateKeyPair({ comment: "someone-else" }).authorizedKey}\n`);
  await env.device(1).resetHome();
  for (const i of [0, 1]) {
    const run = await env.reconnect(env.device(i).id);
    expect(run.status).toBe("FAILED");
    expect(await env.getDevice(env.device(i).id)).toMatchObject({
      status: "KEY_CONFLICT",
      lastFailureCause: "AUTH_REJECTED",
    });
  }
  browser = await openBrowser("resolve");
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

describe("resolving key conflicts from the console", () => {
  it("resolves a conflicted device with the Space key: admin user and password, a wrong password first", async () => {
    const { page } = browser;
    const dev = env.device(0);
    await page.goto(consoleUrl(env.runtime));
    // The token leaves the address bar at once.
    await expect.poll(() => new URL(page.url()).hash).toBe("#/devices");
    await expect.poll(() => row(page, "Devices", dev.id).textContent()).toContain("Key conflict");

    await choose(page, "Filter by auth status", /^Key conflict/);
    await expect.poll(() => row(page, "Devices", "127.0.0.1").count()).toBe(2);
    await page.getByRole("checkbox", { name: `Select device ${dev.id}` }).check();
    await page.getByRole("button", { name: "Resolve key conflict" }).click();

    const dialog = page.getByRole("dialog", { name: "Resolve key conflict" });
    await expect
      .poll(() => dialog.getByRole("radio", { name: /Use Space key/ }).isChecked())
      .toBe(true);
    // An empty password is caught before anything is sent.
    await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
    await expect.poll(() => dialog.textContent()).toContain("Enter the password.");
    expect(await dialog.getByLabel(`Admin user for ${dev.id}`).inputValue()).toBe(dev.user);

    await dialog.getByLabel(`Password for ${dev.id}`).fill(`${password}-wrong`);
    await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
    const progress = page.getByRole("dialog", { name: "Resolving key conflicts" });
    await expect
      .poll(() => progress.textContent(), { timeout: 30_000 })
      .toContain("0 resolved, 1 failed");
    // The failure shows its cause and handling step, not a raw error.
    await expect.poll(() => progress.textContent()).toContain("Authentication rejected");
    await expect
      .poll(() => progress.textContent())
      .toContain("refused the admin password or custom key you gave");
    await browser.screenshot("space-key-wrong-password");
    await progress.getByRole("button", { name: "Close", exact: true }).click();
    expect((await env.getDevice(dev.id))?.status).not.toBe("KEY_BASED");

    await choose(page, "Filter by auth status", /^Any status/);
    await page.getByRole("checkbox", { name: `Select device ${dev.id}` }).check();
    await page.getByRole("button", { name: "Resolve key conflict" }).click();
    await dialog.getByLabel(`Password for ${dev.id}`).fill(password);
    await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
    await expect
      .poll(() => progress.textContent(), { timeout: 30_000 })
      .toContain(`${dev.id} resolved.`);
    expect(await progress.getByRole("link", { name: `View run for ${dev.id}` }).count()).toBe(1);
    await browser.screenshot("space-key-resolved");
    await progress.getByRole("button", { name: "Close", exact: true }).click();

    await expect.poll(() => row(page, "Devices", dev.id).textContent()).toContain("Key based");
    expect(await env.getDevice(dev.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 1 });
    expect((await dev.readAuthorizedKeys()).toString()).toContain(platform.authorizedKey);
    expect(env.runtime.output()).not.toContain(password);
  });

  it("resolves a conflicted device with a custom key file and its passphrase", async () => {
    const { page } = browser;
    const dev = env.device(1);
    // The operator's own key, made and protected by ssh-keygen as an operator would.
    const dir = await mkdtemp(join(tmpdir(), "keyheal-e2e-key-"));
    const passphrase = "correct horse battery";
    try {
      await promisify(execFile)("ssh-keygen", [
        "-q",
        "-t",
        "ed25519",
        "-N",
        passphrase,
        "-C",
        "operator",
        "-f",
        join(dir, "id_ed25519"),
      ]);
      const publicKey = (await readFile(join(dir, "id_ed25519.pub"), "utf8")).trim();
      await dev.writeAuthorizedKeys(`${publicKey}\n`);

      await openPage(page, "Devices");
      await page.getByRole("checkbox", { name: `Select device ${dev.id}` }).check();
      await page.getByRole("button", { name: "Resolve key conflict" }).click();
      const dialog = page.getByRole("dialog", { name: "Resolve key conflict" });
      await dialog.getByRole("radio", { name: /Use custom key/ }).check();
      await dialog.getByLabel("Private key").setInputFiles(join(dir, "id_ed25519"));
      // A wrong passphrase is refused by the API, named on its field, before any run starts.
      await dialog.getByLabel("Passphrase").fill("not the passphrase");
      await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
      await expect.poll(() => dialog.textContent()).toMatch(/passphrase/i);
      expect(await page.getByRole("dialog", { name: "Resolving key conflicts" }).count()).toBe(0);

      await dialog.getByLabel("Passphrase").fill(passphrase);
      await browser.screenshot("custom-key-form");
      await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
      const progress = page.getByRole("dialog", { name: "Resolving key conflicts" });
      await expect
        .poll(() => progress.textContent(), { timeout: 30_000 })
        .toContain(`${dev.id} resolved.`);
      await browser.screenshot("custom-key-resolved");
      await progress.getByRole("button", { name: "Close", exact: true }).click();

      await expect.poll(() => row(page, "Devices", dev.id).textContent()).toContain("Key based");
      expect(await env.getDevice(dev.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 1 });
      const content = (await dev.readAuthorizedKeys()).toString();
      expect(content).toContain(platform.authorizedKey);
      // The operator's key is not keyheal's to remove.
      expect(content).toContain(publicKey);
      expect(env.runtime.output()).not.toContain(passphrase);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
