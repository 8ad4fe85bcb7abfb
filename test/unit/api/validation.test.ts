import { describe, expect, it } from "vitest";
import { createRouter, dispatch } from "../../../lib/api/routes.ts";
import type { ApiContext } from "../../../lib/api/types.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";

/** Any store, starter or intake touched means a bad request had a side effect: fail loudly. */
const untouchable = (what: string) =>
  new Proxy(
    {},
    {
      get: (_target, property) => {
        if (property === "then") return undefined;
        throw new Error(`${what}.${String(property)} was touched by a bad request`);
      },
    },
  );

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const context = {
  deps: {
    devices: untouchable("devices"),
    failures: untouchable("failures"),
    keys: untouchable("keys"),
    secrets: untouchable("secrets"),
    logger: silent,
    now: () => new Date("2026-11-30T12:00:00Z"),
  },
  runs: untouchable("runs"),
  jobs: untouchable("jobs"),
  starter: untouchable("starter"),
  intake: untouchable("intake"),
} as unknown as ApiContext;

const router = createRouter();
const encrypted = generateKeyPair({ comment: "op" });
const device = { id: "edge-1", host: "127.0.0.1", port: 22, adminUser: "admin" };

/** [method, path, query, body, the field the 400 names] */
const CASES: Array<[string, string, Record<string, string>, unknown, string]> = [
  ["GET", "/devices", { status: "HEALTHY" }, undefined, "status"],
  ["GET", "/devices", { limit: "1001" }, undefined, "limit"],
  ["GET", "/devices", { limit: "1.5" }, undefined, "limit"],
  ["GET", "/devices", { cursor: "" }, undefined, "cursor"],
  ["GET", "/devices", { colour: "red" }, undefined, "colour"],
  ["GET", "/devices", { q: "" }, undefined, "q"],
  ["GET", "/devices", { q: "web#1" }, undefined, "q"],
  ["GET", "/devices", { q: "a".repeat(129) }, undefined, "q"],
  ["GET", "/devices/stats", { status: "KEY_BASED" }, undefined, "status"],
  ["POST", "/devices", {}, undefined, "(body)"],
  ["POST", "/devices", {}, { ...device, port: 0 }, "port"],
  ["POST", "/devices", {}, { ...device, host: "" }, "host"],
  ["POST", "/devices", {}, { ...device, adminUser: "root;rm" }, "adminUser"],
  ["POST", "/devices", {}, { ...device, id: "has space" }, "id"],
  ["POST", "/devices", {}, { devices: [] }, "devices"],
  ["POST", "/devices", {}, { devices: [device, device] }, "devices[1].id"],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "space-key", devices: [{ id: "a" }], password: "p" },
    "devices[0].adminUser",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "space-key", devices: [{ id: "a", adminUser: "u" }] },
    "devices[0].password",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "space-key", devices: [{ id: "a", adminUser: "u" }], password: "" },
    "password",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    {
      mode: "space-key",
      devices: [
        { id: "a", adminUser: "u" },
        { id: "a", adminUser: "v" },
      ],
      password: "p",
    },
    "devices[1].id",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "space-key", devices: [{ id: "a", adminUser: "u", loginUser: "x y" }], password: "p" },
    "devices[0].loginUser",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "custom-key", devices: [{ id: "a", adminUser: "u" }] },
    "devices[0].privateKey",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    {
      mode: "custom-key",
      devices: [{ id: "a", adminUser: "u" }],
      privateKey: encrypted.privateKey,
      adopt: "yes",
    },
    "adopt",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "custom-key", devices: [{ id: "a", adminUser: "u" }], privateKey: "k", password: "p" },
    "password",
  ],
  ["POST", "/devices/resolve", {}, { mode: "both" }, "mode"],
  [
    "POST",
    "/devices/resolve",
    {},
    {
      mode: "space-key",
      devices: [
        { id: "a", adminUser: "u", password: "own" },
        { id: "b", adminUser: "v" },
      ],
    },
    "devices[1].password",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "space-key", devices: [{ id: "a", adminUser: "u", privateKey: "k" }], password: "p" },
    "devices[0].privateKey",
  ],
  [
    "POST",
    "/devices/resolve",
    {},
    { mode: "custom-key", devices: [{ id: "a", adminUser: "u", privateKey: "" }] },
    "devices[0].privateKey",
  ],
  ["POST", "/keys/import", {}, {}, "privateKey"],
  ["POST", "/keys/import", {}, { privateKey: "not a key" }, "privateKey"],
  ["POST", "/keys/import", {}, { privateKey: encrypted.privateKey, passphrase: 7 }, "passphrase"],
  ["POST", "/keys/rotate", {}, { type: "dsa" }, "type"],
  ["POST", "/keys/rotate", {}, { type: "ed25519", bits: 4096 }, "bits"],
  ["GET", "/keys", { limit: "0" }, undefined, "limit"],
  ["GET", "/failures", { cause: "GREMLINS" }, undefined, "cause"],
  ["GET", "/failures", { operation: "PANIC" }, undefined, "operation"],
  ["GET", "/failures", { since: "last tuesday" }, undefined, "since"],
  ["GET", "/failures", { until: "2026-13-40" }, undefined, "until"],
  ["GET", "/failures", { since: "1h", until: "2h" }, undefined, "since"],
  ["GET", "/failures", { deviceId: "a/b" }, undefined, "deviceId"],
  ["DELETE", "/failures", { limit: "0" }, undefined, "limit"],
  ["DELETE", "/failures", { limit: "1001" }, undefined, "limit"],
  ["DELETE", "/failures", { cursor: "x" }, undefined, "cursor"],
  ["DELETE", "/failures", { cause: "nope" }, undefined, "cause"],
  ["GET", "/failures/stats", { since: "soon" }, undefined, "since"],
  ["GET", "/failures/stats", { cause: "TIMEOUT" }, undefined, "cause"],
  ["GET", "/failures/stats", { limit: "5" }, undefined, "limit"],
];

describe("every validation error of the ops API", () => {
  it.each(CASES)(
    "%s %s %j %j → 400 on %s, before any store is touched",
    async (method, path, query, body, field) => {
      const response = await dispatch(context, router, method, path, { query, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: "BadRequest", field });
      expect((response.body as { message: string }).message.length).toBeGreaterThan(10);
    },
  );

  it("names every problem of a request at once", async () => {
    const response = await dispatch(context, router, "POST", "/devices", {
      query: {},
      body: { id: "has space", host: "", port: -1, adminUser: "admin" },
    });
    const issues = (response.body as { issues: Array<{ path: string }> }).issues;
    expect(new Set(issues.map((i) => i.path))).toEqual(new Set(["host", "id", "port"]));
  });

  it("answers ids that name nothing with 404 without reading a store", async () => {
    for (const [method, path] of [
      ["GET", "/failures/not-a-ulid"],
      ["DELETE", "/failures/not-a-ulid"],
      ["POST", "/failures/not-a-ulid/retry"],
      ["GET", "/jobs/not-a-job"],
      ["GET", "/runs/has%20space"],
    ] as const) {
      const response = await dispatch(context, router, method, path, {
        query: {},
        body: undefined,
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });
});
