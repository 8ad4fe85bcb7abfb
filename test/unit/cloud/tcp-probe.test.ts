import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidPortError, InvalidTimeoutError } from "../../../lib/cloud/errors.ts";
import { classifyConnectError, probeTcp } from "../../../lib/cloud/tcp-probe.ts";

const servers: Server[] = [];

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end());
    servers.push(server);
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve({ server, port: address.port });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => (server.listening ? close(server) : undefined)),
  );
});

describe("probeTcp on loopback", () => {
  it("a listening port is open", async () => {
    const { port } = await listen();
    const result = await probeTcp("127.0.0.1", port, 2_000);
    expect(result.open).toBe(true);
    if (result.open) expect(result.ms).toBeGreaterThanOrEqual(0);
  });

  it("a closed port is refused", async () => {
    const { server, port } = await listen();
    await close(server);
    expect(await probeTcp("127.0.0.1", port, 2_000)).toEqual({
      open: false,
      cause: "CONNECTION_REFUSED",
      code: "ECONNREFUSED",
    });
  });

  it("refuses bad arguments", () => {
    expect(() => probeTcp("127.0.0.1", 0, 100)).toThrow(InvalidPortError);
    expect(() => probeTcp("127.0.0.1", 65_536, 100)).toThrow(InvalidPortError);
    expect(() => probeTcp("127.0.0.1", 22.5, 100)).toThrow(InvalidPortError);
    expect(() => probeTcp("127.0.0.1", 22, 0)).toThrow(InvalidTimeoutError);
    expect(() => probeTcp("127.0.0.1", 22, Number.NaN)).toThrow(InvalidTimeoutError);
  });
});

describe("classifyConnectError", () => {
  it.each([
    ["ECONNREFUSED", "CONNECTION_REFUSED"],
    ["ECONNRESET", "CONNECTION_REFUSED"],
    ["ETIMEDOUT", "CONNECTION_TIMEOUT"],
    ["ENETUNREACH", "NETWORK_UNREACHABLE"],
    ["EHOSTUNREACH", "NETWORK_UNREACHABLE"],
    ["EHOSTDOWN", "NETWORK_UNREACHABLE"],
    ["ENOTFOUND", "NETWORK_UNREACHABLE"],
    ["EAI_AGAIN", "NETWORK_UNREACHABLE"],
    ["EADDRNOTAVAIL", "NETWORK_UNREACHABLE"],
    [undefined, "NETWORK_UNREACHABLE"],
  ] as const)("%s → %s", (code, cause) => {
    expect(classifyConnectError(code)).toBe(cause);
  });
});
