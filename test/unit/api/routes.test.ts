import { describe, expect, it } from "vitest";
import {
  BadRequestError,
  errorResponse,
  MethodNotAllowedError,
  RouteNotFoundError,
} from "../../../lib/api/errors.ts";
import { createRouter } from "../../../lib/api/routes.ts";
import { listFailuresQuery, parseRequest, ResolveBody } from "../../../lib/api/schemas.ts";
import { InvalidEventError } from "../../../lib/events/errors.ts";
import { bearerMatches } from "../../../lib/http/bearer.ts";
import { WrongPassphraseError } from "../../../lib/keys/errors.ts";
import { InvalidCursorError, NotFoundError } from "../../../lib/store/errors.ts";

describe("router", () => {
  const router = createRouter();

  it("matches paths with parameters, decoded", () => {
    const { route, params } = router.match("POST", "/failures/01ARZ3NDEKTSV4RRFFQ69G5FAV/retry");
    expect(route.path).toBe("/failures/{id}/retry");
    expect(params).toEqual({ id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    expect(router.match("GET", "/runs/local%3Areconnect%3Ax").params).toEqual({
      id: "local:reconnect:x",
    });
    expect(router.match("GET", "/devices/").route.path).toBe("/devices");
  });

  it("tells an unknown path from a wrong method", () => {
    expect(() => router.match("GET", "/nope")).toThrow(RouteNotFoundError);
    expect(() => router.match("GET", "/runs/%E0%A4%A")).toThrow(RouteNotFoundError);
    const error = (() => {
      try {
        router.match("PATCH", "/failures");
      } catch (e) {
        return e as MethodNotAllowedError;
      }
    })();
    expect(error).toBeInstanceOf(MethodNotAllowedError);
    expect(error?.allowed.sort()).toEqual(["DELETE", "GET"]);
  });
});

describe("error → status, by class", () => {
  it.each([
    [new BadRequestError("limit", "bad"), 400, "limit"],
    [
      new InvalidEventError([{ path: "detail.deviceId", problem: "bad" }], "x"),
      400,
      "detail.deviceId",
    ],
    [new WrongPassphraseError("OpenSSH"), 400, "passphrase"],
    [new InvalidCursorError(), 400, "cursor"],
    [new NotFoundError("failure", "x"), 404, undefined],
    [new Error("boom with details"), 500, undefined],
  ])("%s", (error, status, field) => {
    const response = errorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body.field).toBe(field);
    if (status === 500) expect(response.body.message).not.toContain("boom");
  });
});

describe("request schemas", () => {
  const now = () => new Date("2025-06-01T12:00:00Z");

  it("reads since/until as ISO instants or spans back from now", () => {
    const q = parseRequest(
      listFailuresQuery(now),
      { since: "24h", until: "2025-06-01T11:00:00+01:00", limit: "5" },
      "(query)",
    );
    expect(q).toEqual({
      since: "2025-05-31T12:00:00.000Z",
      until: "2025-06-01T10:00:00.000Z",
      limit: 5,
    });
  });

  it("keeps the two resolve modes apart and never repeats a secret", () => {
    const base = { devices: [{ id: "d1", adminUser: "root" }] };
    expect(() =>
      parseRequest(
        ResolveBody,
        { ...base, mode: "space-key", password: "pw", adopt: true },
        "(body)",
      ),
    ).toThrow(expect.objectContaining({ field: "adopt" }));
    expect(() =>
      parseRequest(ResolveBody, { ...base, mode: "custom-key", password: "hunter2" }, "(body)"),
    ).toThrow(
      expect.objectContaining({
        field: "password",
        message: expect.not.stringContaining("hunter2"),
      }),
    );
    const call = () =>
      parseRequest(ResolveBody, { ...base, mode: "space-key", password: 12345678 }, "(body)");
    expect(call).toThrow(expect.objectContaining({ field: "password" }));
    expect(call).not.toThrow(/12345678/);
  });
});

describe("bearer token check", () => {
  it("accepts exactly the token, in a Bearer header", () => {
    expect(bearerMatches("Bearer abc", "abc")).toBe(true);
    expect(bearerMatches("bearer abc", "abc")).toBe(true);
    expect(bearerMatches("Bearer abcd", "abc")).toBe(false);
    expect(bearerMatches("Bearer ", "")).toBe(false);
    expect(bearerMatches("abc", "abc")).toBe(false);
    expect(bearerMatches(undefined, "abc")).toBe(false);
  });
});
