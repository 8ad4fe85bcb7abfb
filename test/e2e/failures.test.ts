import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FailureView, KeyView } from "../../lib/contract/api.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { freePort } from "../harness/fleet.ts";
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

async function failures(query = ""): Promise<FailureView[]> {
  const { status, body } = await env.runtime.api<List<FailureView>>("GET", `/failures${query}`);
  expect(status).toBe(200);
  return body.items;
}

beforeAll(async () => {
  env = await startConsoleEnv(2, { probeInterval: "0" });
  const imported = await env.runtime.api<KeyView>("POST", "/keys/import", {
    privateKey: platform.privateKey,
  });
  expect(imported.status).toBe(201);
  const [dev0, dev1] = [env.device(0), env.device(1)];
  await dev0.resetHome(`${platform.authorizedKey}\n`);
  await dev1.resetHome(`${generateKeyPair({ comment: "someone-else" }).authorizedKey}\n`);
  // Two devices whose port nobody listens on.
  await env.runtime.api("POST", "/devices", {
    devices: [
      { id: "ghost-a", host: "127.0.0.1", port: await freePort(), adminUser: "root" },
      { id: "ghost-b", host: "127.0.0.1", port: await freePort(), adminUser: "root" },
    ],
  });
  await dev0.stop();
  for (const id of [dev0.id, "ghost-a", "ghost-b", dev1.id]) {
    expect((await env.reconnect(id)).status).toBe("FAILED");
  }
  // dev-0's sshd is back (the probe loop is off: only a retry finds out).
  await dev0.start();
  await env.runtime.api("POST", "/devices", {
    id: dev0.id,
    host: dev0.host,
    port: dev0.port,
    adminUser: dev0.user,
    hostKeyFingerprint: dev0.hostKeyFingerprint,
  });
  expect((await failures()).map((f) => f.cause).sort()).toEqual([
    "AUTH_REJECTED",
    "CONNECTION_REFUSED",
    "CONNECTION_REFUSED",
    "CONNECTION_REFUSED",
  ]);
  browser = await openBrowser("failures");
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

describe("failed tasks in the console", () => {
  it("filters failures by device and by cause, retries one, deletes one and then all", async () => {
    const { page } = browser;
    const dev0 = env.device(0);
    const dev1 = env.device(1);
    await page.goto(consoleUrl(env.runtime));
    await openPage(page, "Failed tasks");

    // Counts by cause, with their handling steps.
    await expect
      .poll(() => page.getByRole("link", { name: /Connection refused: show them/ }).textContent())
      .toBe("3");
    await expect
      .poll(() =>
        page.getByRole("link", { name: /Authentication rejected: show them/ }).textContent(),
      )
      .toBe("1");
    await expect.poll(() => row(page, "Failed tasks", "127.0.0.1").count()).toBe(4);
    await expect
      .poll(() => row(page, "Failed tasks", dev1.id).textContent())
      .toContain("restore the file, or resolve the conflict by hand");
    await browser.screenshot("overview");

    // Each failure links to the run that failed.
    await row(page, "Failed tasks", "ghost-a")
      .getByRole("link", { name: "View the failed run of ghost-a" })
      .click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toContain("Reconnect run");
    await expect.poll(() => page.getByLabel("Run summary").textContent()).toContain("Failed");
    await expect.poll(() => page.getByLabel("Run summary").textContent()).toContain("ghost-a");
    await page.goBack();

    // One device's failures by the device filter; "Clear filters" lists them all again; a count
    // of the summary lists its cause.
    const deviceFilter = page.getByRole("combobox", { name: "Filter by device" });
    await deviceFilter.fill(dev1.id);
    await deviceFilter.press("Enter");
    await expect.poll(() => row(page, "Failed tasks", "127.0.0.1").count()).toBe(1);
    await expect.poll(() => page.getByText(`Showing device ${dev1.id}.`).count()).toBe(1);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => row(page, "Failed tasks", "127.0.0.1").count()).toBe(4);
    await page.getByRole("link", { name: /Connection refused: show them/ }).click();
    await expect.poll(() => row(page, "Failed tasks", "127.0.0.1").count()).toBe(3);

    await choose(page, "Filter by cause", /^Connection refused/);
    await expect.poll(() => row(page, "Failed tasks", "Connection refused").count()).toBe(3);
    await expect.poll(() => row(page, "Failed tasks", "127.0.0.1").count()).toBe(3);
    expect(await row(page, "Failed tasks", dev1.id).count()).toBe(0);
    expect(await failures("?cause=CONNECTION_REFUSED")).toHaveLength(3);
    await browser.screenshot("filtered-by-cause");

    // Retry dev-0's failure: sshd is back, so the new run heals it.
    const original = (await failures(`?deviceId=${dev0.id}`))[0] as FailureView;
    await row(page, "Failed tasks", dev0.id)
      .getByRole("checkbox", { name: new RegExp(`^Select failure of ${dev0.id} `) })
      .check();
    await page.getByRole("button", { name: "Retry", exact: true }).click();
    await page.getByRole("link", { name: `View the new run of ${dev0.id}` }).click();
    await expect.poll(() => new URL(page.url()).hash).toMatch(/^#\/runs\//);
    await expect
      .poll(() => page.getByLabel("Run summary").textContent(), { timeout: 30_000 })
      .toContain("Succeeded");
    expect(
      await page.getByRole("table", { name: "Workflow steps" }).getByRole("row").count(),
    ).toBeGreaterThan(2);
    await browser.screenshot("retry-run");
    const newRunId = decodeURIComponent(new URL(page.url()).hash.replace("#/runs/", ""));
    expect(await env.getDevice(dev0.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 1 });
    const marked = await env.runtime.api<FailureView>("GET", `/failures/${original.id}`);
    expect(marked.body.retriedByRunId).toBe(newRunId);

    // Delete one: the AUTH_REJECTED record of dev-1.
    await openPage(page, "Failed tasks");
    await row(page, "Failed tasks", dev1.id)
      .getByRole("checkbox", { name: new RegExp(`^Select failure of ${dev1.id} `) })
      .check();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const deleteOne = page.getByRole("dialog", { name: "Delete 1 failure record?" });
    await deleteOne.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => page.getByText("Deleted 1 failure record").count()).toBe(1);
    await expect.poll(() => row(page, "Failed tasks", dev1.id).count()).toBe(0);
    expect(await failures(`?deviceId=${dev1.id}`)).toEqual([]);

    // Delete all, after a confirmation that says what goes.
    const left = (await failures()).length;
    expect(left).toBe(3);
    await page.getByRole("button", { name: "Delete all", exact: true }).click();
    const deleteAll = page.getByRole("dialog", { name: "Delete all failed tasks?" });
    await expect.poll(() => deleteAll.textContent()).toContain(`Every failure record (${left})`);
    await browser.screenshot("delete-all-confirm");
    await deleteAll.getByRole("button", { name: "Delete all", exact: true }).click();
    await expect.poll(() => page.getByText(`Deleted ${left} failure records`).count()).toBe(1);
    await expect.poll(() => page.getByText("No failed tasks", { exact: true }).count()).toBe(1);
    await browser.screenshot("deleted-all");
    expect(await failures()).toEqual([]);
    const stats = await env.runtime.api<{ total: number }>("GET", "/failures/stats");
    expect(stats.body.total).toBe(0);
  });
});
