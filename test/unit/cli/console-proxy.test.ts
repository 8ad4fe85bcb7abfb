import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../../lib/cli/api-client.ts";
import { type ConsoleProxy, startConsoleProxy } from "../../../lib/cli/console.ts";
import { createSigner } from "../../../lib/cli/sigv4.ts";
import { rawRequest } from "../../harness/raw-http.ts";
import { type FakeApi, keyheal, type RecordedRequest, startFakeApi } from "./fake-api.ts";
import { TEST_CREDENTIALS, verifySigV4 } from "./sigv4-verifier.ts";

const REGION = "eu-west-1";
let deployed: FakeApi;
let proxy: ConsoleProxy;
/** Each request the deployed API got, with the verdict on its signature. */
const verdicts: Array<{ request: RecordedRequest; ok: boolean; reason?: string }> = [];

beforeAll(async () => {
  // Stands in for API Gateway: the stage prefix, IAM auth checked on every request.
  deployed = await startFakeApi(async (request) => {
    const verdict = await verifySigV4(request, TEST_CREDENTIALS, REGION);
    verdicts.push({ request, ok: verdict.ok, reason: verdict.reason });
    if (!verdict.ok) return { status: 403, body: { message: "Forbidden" } };
    if (request.path === "/v1/console/") {
      return {
        status: 200,
        body: "<!doctype html><title>keyheal</title>",
        headers: { "content-type": "text/html; charset=utf-8" },
      };
    }
    if (request.path === "/v1/devices" && request.method === "GET") {
      return { body: { items: [{ id: "edge-1" }], nextCursor: null } };
    }
    if (request.path === "/v1/devices/resolve" && request.method === "POST") {
      return { status: 202, body: { jobId: "job-1", echo: request.body } };
    }
    if (request.path === "/v1/failures" && request.method === "DELETE") {
      return { body: { deleted: 3, more: false, query: request.query } };
    }
    return undefined;
  });
  const baseUrl = `${deployed.url}/v1`;
  const client = new ApiClient(
    { baseUrl, sigv4: { region: REGION }, source: "KEYHEAL_API" },
    { signer: await createSigner(REGION, baseUrl, async () => TEST_CREDENTIALS) },
  );
  proxy = await startConsoleProxy(client);
});

afterAll(async () => {
  await proxy?.close();
  await deployed?.close();
});

const call = (path: string, init: RequestInit = {}, token: string | null = proxy.token) =>
  fetch(`${proxy.url}${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    redirect: "manual",
  });

describe("keyheal console's signing proxy to a deployed API", () => {
  it("listens on loopback only and sends the console to /console/", async () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const root = await call("/", {}, null);
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console/");
  });

  it("serves the console's files without its token, fetched from the API with a signature", async () => {
    const page = await call("/console/", {}, null);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<title>keyheal</title>");
    expect(verdicts.at(-1)).toMatchObject({ ok: true, request: { path: "/v1/console/" } });
  });

  it("signs every API call under the stage, bodies and queries included", async () => {
    const listed = await call("/devices");
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ items: [{ id: "edge-1" }], nextCursor: null });

    const body = {
      mode: "space-key",
      devices: [{ id: "edge-1", adminUser: "admin" }],
      password: "pw",
    };
    const resolved = await call("/devices/resolve", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(resolved.status).toBe(202);
    expect(await resolved.json()).toEqual({ jobId: "job-1", echo: body });

    const deleted = await call("/failures?cause=TIMEOUT&limit=200", { method: "DELETE" });
    expect(await deleted.json()).toMatchObject({ query: { cause: "TIMEOUT", limit: "200" } });
    const lastThree = verdicts.slice(-3);
    expect(lastThree.map((v) => [v.request.method, v.request.path, v.ok])).toEqual([
      ["GET", "/v1/devices", true],
      ["POST", "/v1/devices/resolve", true],
      ["DELETE", "/v1/failures", true],
    ]);
  });

  it("passes nothing on without its own token, and never forwards the browser's token", async () => {
    const before = verdicts.length;
    for (const token of [null, "guess", `${proxy.token}x`]) {
      const refused = await call("/devices", {}, token);
      expect(refused.status).toBe(401);
    }
    expect(verdicts.length).toBe(before);
    await call("/devices");
    expect(verdicts.at(-1)?.request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(JSON.stringify(verdicts.at(-1)?.request.headers)).not.toContain(proxy.token);
  });

  it("passes the API's refusals back as they are", async () => {
    const missing = await call("/nowhere");
    expect(missing.status).toBe(404);
  });
});

describe("keyheal console with a local runtime", () => {
  it("prints the runtime's console address with its token and exits", async () => {
    const local = await startFakeApi(() => undefined, "local-token");
    try {
      const result = await keyheal(["console", "--json"], {
        env: { KEYHEAL_DATA_DIR: local.dataDir },
      });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        url: `${local.url}/console/#token=local-token`,
        proxied: false,
      });
      expect(local.requests).toEqual([]);
      const bad = await keyheal(["console", "--port", "http"], {
        env: { KEYHEAL_DATA_DIR: local.dataDir },
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--port");
    } finally {
      await local.close();
    }
  });
});

describe("issue 10.9: keyheal console's proxy survives malformed requests", () => {
  const stillServes = async () => expect((await call("/devices")).status).toBe(200);

  it("issue 10.9: GET //[, %-garbage, broken lines and truncated bodies are answered 4xx (or the connection closed) and the proxy keeps serving", async () => {
    const host = new URL(proxy.url).host;
    const auth = `Authorization: Bearer ${proxy.token}\r\n`;
    for (const [request, statuses] of [
      [`GET //[ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, [400]],
      [`GET /console/%E0%A4%A HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, [400]],
      [`GET http://evil.example/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, [400]],
      ["BLAH\r\n\r\n", [400]],
      [`GET /devices HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`, [431]],
      [
        `POST /devices/resolve HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 4096\r\n\r\n{"mode"`,
        [undefined, 400],
      ],
    ] as const) {
      const answer = await rawRequest(proxy.url, request, { end: true, waitMs: 1_000 });
      expect(statuses as readonly (number | undefined)[], request.slice(0, 60)).toContain(
        answer.status,
      );
      await stillServes();
    }
  });

  it("issue 10.9: the proxy refuses a foreign Host (DNS rebinding) and cross-origin browser requests with 403, before signing anything", async () => {
    const signed = verdicts.length;
    const { port } = new URL(proxy.url);
    for (const headers of [
      `Host: evil.example:${port}\r\n`,
      `Host: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\n`,
      `Host: 127.0.0.1:${port}\r\nSec-Fetch-Site: cross-site\r\n`,
    ]) {
      const answer = await rawRequest(
        proxy.url,
        `GET /devices HTTP/1.1\r\n${headers}Authorization: Bearer ${proxy.token}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, headers).toBe(403);
    }
    expect(verdicts.length).toBe(signed);
    await stillServes();
  });
});
