import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RuntimeProcess, startRuntimeProcess } from "../../harness/local-runtime.ts";
import { addressOf, rawRequest, trickle } from "../../harness/raw-http.ts";

let dataDir: string;
let runtime: RuntimeProcess;
let host: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "keyheal-malformed-"));
  runtime = await startRuntimeProcess({ dataDir, probeInterval: "0" });
  const { port } = addressOf(runtime.url);
  host = `127.0.0.1:${port}`;
});

afterAll(async () => {
  const exit = await runtime?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  // Still up at the end, and stopped cleanly: nothing below took the process down.
  expect(exit?.code).toBe(0);
});

/** The runtime answers an ordinary authorized call. */
async function stillServes() {
  const { status } = await runtime.api("GET", "/devices");
  expect(status).toBe(200);
}

const auth = () => `Authorization: Bearer ${runtime.token}\r\n`;

describe("issue 10.9: malformed requests never stop the local runtime", () => {
  it("issue 10.9: a request target that is no path (GET //[, absolute-form, *, %-garbage) is a 400, and the runtime keeps serving", async () => {
    const cases: Array<[string, number[]]> = [
      // What <img src="http://127.0.0.1:PORT//["> sends: used to throw outside the handler.
      ["//[", [400]],
      ["//[::1", [400]],
      ["http://evil.example/devices", [400]],
      ["*", [400]],
      ["/console/%E0%A4%A", [400]],
      ["/devices/%zz%%%25/x", [400]],
      ["/devices?status=%", [400]],
      ["/a[b]/{c}|d^e", [400]],
      // Well-formed escapes of bytes that are no UTF-8: a plain miss.
      ["/runs/%ff%fe%00", [401]],
    ];
    for (const [target, statuses] of cases) {
      const answer = await rawRequest(
        runtime.url,
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(statuses, `GET ${target}: ${answer.text.slice(0, 200)}`).toContain(answer.status);
      await stillServes();
    }
    // With the token too: the router's own decoding fails into a 404, not an exception.
    const decoded = await rawRequest(
      runtime.url,
      `GET /runs/%ff%fe%00 HTTP/1.1\r\nHost: ${host}\r\n${auth()}Connection: close\r\n\r\n`,
    );
    expect(decoded.status).toBe(404);
  });

  it("issue 10.9: broken request lines and headers (garbage, bad Content-Length, 64 KB header, NUL bytes) are answered 400/431 and the runtime keeps serving", async () => {
    const cases: Array<[string, string | Buffer, number]> = [
      ["garbage request line", "BLAH\r\n\r\n", 400],
      // Taken as HTTP/0.9-style, without a Host: refused like any request without the runtime's.
      ["no HTTP version", "GET /\r\n\r\n", 403],
      [
        "bad Content-Length",
        `POST /events HTTP/1.1\r\nHost: ${host}\r\nContent-Length: abc\r\n\r\n`,
        400,
      ],
      [
        "two Content-Lengths",
        `POST /events HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        400,
      ],
      ["a header without a colon", `GET /devices HTTP/1.1\r\nHost: ${host}\r\nbroken\r\n\r\n`, 400],
      [
        "a 64 KB header",
        `GET /devices HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
        431,
      ],
      [
        "NUL and high bytes in the target",
        Buffer.concat([
          Buffer.from("GET /dev"),
          Buffer.from([0x00, 0xff, 0xfe]),
          Buffer.from(` HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
        ]),
        400,
      ],
      [
        "a bad chunk size",
        `POST /events HTTP/1.1\r\nHost: ${host}\r\n${auth()}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        400,
      ],
    ];
    for (const [what, bytes, status] of cases) {
      const answer = await rawRequest(runtime.url, bytes);
      expect(answer.status, what).toBe(status);
      await stillServes();
    }
  });

  it("issue 10.9: bad bodies (not JSON, wrong JSON, truncated, longer or shorter than Content-Length, too large) get 4xx or a closed connection, and the runtime keeps serving", async () => {
    const post = (body: string, length = Buffer.byteLength(body)) =>
      `POST /events HTTP/1.1\r\nHost: ${host}\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`;

    expect((await rawRequest(runtime.url, post("{not json"))).status).toBe(400);
    expect((await rawRequest(runtime.url, post('"a string"'))).status).toBe(400);
    expect((await rawRequest(runtime.url, post("[1,2,3]"))).status).toBe(400);
    expect((await rawRequest(runtime.url, post("\u0000\u0001\u0002"))).status).toBe(400);
    // Declared larger than the API takes: refused before reading.
    expect((await rawRequest(runtime.url, post("{}", 50 * 1024 * 1024))).status).toBe(413);
    await stillServes();

    // Shorter than declared, then the client goes away: nothing to answer, nothing to crash.
    const truncated = await rawRequest(runtime.url, post('{"source":"kev', 4096), {
      end: true,
      waitMs: 1_000,
    });
    expect([undefined, 400]).toContain(truncated.status);
    await stillServes();

    // Longer than declared: the rest is read as a second, broken request.
    const longer = await rawRequest(runtime.url, post('{"a":1}garbage that is no request', 7));
    expect(longer.status).toBe(400);
    await stillServes();

    // Chunked body cut off mid-chunk.
    const chunked = await rawRequest(
      runtime.url,
      `POST /events HTTP/1.1\r\nHost: ${host}\r\n${auth()}Transfer-Encoding: chunked\r\n\r\n20\r\n{"detail`,
      { end: true, waitMs: 1_000 },
    );
    expect([undefined, 400]).toContain(chunked.status);
    await stillServes();
  });

  it("issue 10.9: slow clients trickling their headers do not keep the runtime from answering others", async () => {
    const head = `GET /devices HTTP/1.1\r\nHost: ${host}\r\n${auth()}X-Slow: ${"s".repeat(200)}`;
    // Bounded: 20 sockets, at most 30 bytes each, 50 ms apart.
    const stops = await Promise.all(
      Array.from({ length: 20 }, () => trickle(runtime.url, head, 50, 30)),
    );
    try {
      for (let i = 0; i < 5; i++) await stillServes();
    } finally {
      for (const stop of stops) stop();
    }
    await stillServes();
  });
});

describe("issue 10.9: the local API answers only its own loopback name and its own origin", () => {
  const get = (headers: string) =>
    rawRequest(
      runtime.url,
      `GET /devices HTTP/1.1\r\n${headers}${auth()}Connection: close\r\n\r\n`,
    );

  it("issue 10.9: a Host other than the runtime's loopback address (DNS rebinding) is refused with 403, even with the token", async () => {
    const { port } = addressOf(runtime.url);
    for (const wrong of [
      `evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      "127.0.0.1",
      `127.0.0.1:${port + 1}`,
    ]) {
      const answer = await get(`Host: ${wrong}\r\n`);
      expect(answer.status, wrong).toBe(403);
      expect(answer.text).toContain(`send the request to http://127.0.0.1:${port}`);
    }
    // HTTP/1.0 without any Host header.
    const none = await rawRequest(runtime.url, `GET /devices HTTP/1.0\r\n${auth()}\r\n`);
    expect(none.status).toBe(403);
    // The names it does serve.
    expect((await get(`Host: ${host}\r\n`)).status).toBe(200);
    expect((await get(`Host: localhost:${port}\r\n`)).status).toBe(200);
  });

  it("issue 10.9: a browser request from another origin is refused with 403, the console's own same-origin calls are served", async () => {
    const hostHeader = `Host: ${host}\r\n`;
    for (const headers of [
      "Origin: http://evil.example\r\n",
      "Origin: null\r\n",
      `Origin: http://${host.replace("127.0.0.1", "127.0.0.2")}\r\n`,
      "Sec-Fetch-Site: cross-site\r\n",
      "Sec-Fetch-Site: same-site\r\n",
    ]) {
      const answer = await get(hostHeader + headers);
      expect(answer.status, headers).toBe(403);
      expect(answer.text).not.toContain("access-control-allow-origin");
    }
    // A cross-site preflight gets no CORS grant either.
    const preflight = await rawRequest(
      runtime.url,
      `OPTIONS /devices HTTP/1.1\r\n${hostHeader}Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n`,
    );
    expect(preflight.status).toBe(403);
    expect(preflight.text.toLowerCase()).not.toContain("access-control-allow");
    // What the console's fetch sends, and what typing the address sends.
    expect(
      (await get(`${hostHeader}Origin: http://${host}\r\nSec-Fetch-Site: same-origin\r\n`)).status,
    ).toBe(200);
    const page = await rawRequest(
      runtime.url,
      `GET /console/ HTTP/1.1\r\n${hostHeader}Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nConnection: close\r\n\r\n`,
    );
    expect([200, 404]).toContain(page.status);
  });
});
