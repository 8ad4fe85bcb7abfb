/**
 * Issue 14.9 in the console: the landing view, device order and search served by the API, a
 * devices table that fits a 1440-pixel window, the failures' date-range picker, and pages loaded
 * as their own chunks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const platform = generateKeyPair({ comment: "platform-gen1" });
let env: ConsoleEnv;
let browser: ConsoleBrowser;
/** Thirty devices nobody connects to: more than one page of 25, in no order of registration. */
const PAPER = Array.from({ length: 30 }, (_, i) => ({
  id: `node-${String((i * 7) % 30).padStart(2, "0")}`,
  host: (i * 7) % 30 === 29 ? "db-west.internal" : `10.9.0.${(i * 7) % 30}`,
  port: 22,
  adminUser: (i * 7) % 30 === 27 ? "auditor" : "ops",
}));
const requests: string[] = [];
/** expect.poll with room for a loaded machine: pages load their chunks and poll the API. */
const eventually = <T>(read: () => T | Promise<T>) =>
  expect.poll(read, { timeout: 20_000, interval: 250 });
const scripts: string[] = [];

beforeAll(async () => {
  env = await startConsoleEnv(1, { probeInterval: "0" });
  const imported = await env.runtime.api<KeyView>("POST", "/keys/import", {
    privateKey: platform.privateKey,
  });
  expect(imported.status).toBe(201);
  const dev = env.device(0);
  await dev.resetHome(`${generateKeyPair({ comment: "someone-else" }).authorizedKey}\n`);
  expect((await env.reconnect(dev.id)).status).toBe("FAILED");
  expect((await env.getDevice(dev.id))?.status).toBe("KEY_CONFLICT");
  expect((await env.runtime.api("POST", "/devices", { devices: PAPER })).status).toBe(200);
  browser = await openBrowser("devices");
  browser.page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/devices") || url.pathname.startsWith("/failures")) {
      requests.push(`${url.pathname}${url.search}`);
    }
    if (url.pathname.endsWith(".js")) scripts.push(url.pathname);
  });
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

/** The device ids of the Devices table, top to bottom. */
async function shownIds(): Promise<string[]> {
  // The first column is the selection checkbox; the second is the device's id.
  const cells = browser.page
    .getByRole("table", { name: "Devices" })
    .locator("tbody tr > :nth-child(2)");
  return (await cells.allTextContents()).map((text) => text.trim());
}

describe("devices in the console", () => {
  it("issue 14.9: lands on Key conflict when there are conflicts; lists sorted by id; searches through the API", async () => {
    const { page } = browser;
    const dev = env.device(0);
    await page.goto(consoleUrl(env.runtime));
    await eventually(() => shownIds()).toEqual([dev.id]);
    expect(
      await page.getByRole("button", { name: "Filter by auth status" }).textContent(),
    ).toContain("Key conflict");
    // Only the Devices page's chunk was loaded, not the other pages'.
    expect(scripts.some((path) => /\/devices-[\w-]+\.js$/.test(path))).toBe(true);
    expect(scripts.some((path) => /\/(failures|keys|run-detail)-[\w-]+\.js$/.test(path))).toBe(
      false,
    );
    await browser.screenshot("landing-key-conflict");

    await choose(page, "Filter by auth status", /^Any status/);
    const everyId = [dev.id, ...PAPER.map((d) => d.id)].sort();
    await eventually(() => shownIds()).toEqual(everyId.slice(0, 25));

    // node-29 is on page 2; the search finds it by its host, through the API.
    const search = page.getByRole("searchbox", { name: "Find devices by ID, host or admin user" });
    await search.fill("DB-WE");
    await eventually(() => shownIds()).toEqual(["node-29"]);
    expect(requests).toContain("/devices?q=DB-WE&limit=25");
    await search.fill("auditor");
    await eventually(() => shownIds()).toEqual(["node-27"]);
    await search.fill("node-1");
    await eventually(() => shownIds()).toEqual([
      "node-10",
      "node-11",
      "node-12",
      "node-13",
      "node-14",
      "node-15",
      "node-16",
      "node-17",
      "node-18",
      "node-19",
    ]);
    await search.fill("no such#");
    await eventually(() =>
      page.getByText("letters, digits and . _ : @ - only").count(),
    ).toBeGreaterThan(0);
    await search.fill("");
    await eventually(() => shownIds()).toEqual(everyId.slice(0, 25));

    // The table fits the 1440-pixel window: nothing scrolls sideways.
    // A string, run in the page: the test's own types know no DOM.
    const overflow = await page.evaluate(`(() => {
      const table = document.querySelector("table");
      let wrapper = table ? table.parentElement : null;
      while (wrapper && wrapper.scrollWidth <= wrapper.clientWidth && wrapper !== document.body) {
        wrapper = wrapper.parentElement;
      }
      return {
        page: document.documentElement.scrollWidth,
        window: window.innerWidth,
        tableScrolls: wrapper !== null && wrapper !== document.body,
      };
    })()`);
    expect(overflow).toEqual({ page: 1440, window: 1440, tableScrolls: false });
    await browser.screenshot("sorted-1440");
  });

  it("issue 14.9: failures take a relative or absolute date range, sent to the API", async () => {
    const { page } = browser;
    await openPage(page, "Failed tasks");
    await eventually(() => row(page, "Failed tasks", env.device(0).id).count()).toBe(1);
    expect(scripts.some((path) => /\/failures-[\w-]+\.js$/.test(path))).toBe(true);

    await page.getByRole("button", { name: "Filter by time range" }).click();
    await page.getByText("Last 1 hour", { exact: true }).click();
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(() => requests.some((r) => r.startsWith("/failures?since=1h"))).toBe(true);
    await eventually(() => row(page, "Failed tasks", env.device(0).id).count()).toBe(1);

    // A day in 2020: nothing then.
    await page.getByRole("button", { name: "Filter by time range" }).click();
    await page.getByText("Absolute range", { exact: true }).click();
    await page.getByLabel("Start date").fill("2020/01/01");
    await page.getByLabel("End date").fill("2020/01/02");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(() =>
      requests.some((r) => r.includes("since=2020-01-01") && r.includes("until=2020-01-02")),
    ).toBe(true);
    await eventually(() => row(page, "Failed tasks", env.device(0).id).count()).toBe(0);
    await browser.screenshot("failures-absolute-range");
  });
});
