/**
 * SigV4-signed calls to a deployed API. The "deployed API" is an HTTP server on 127.0.0.1 that
 * verifies every signature from what arrived on the wire, as API Gateway's IAM auth does, with
 * the static credentials the CLI is given through AWS_* variables. `--sigv4` (or
 * KEYHEAL_API_SIGV4=1) is what makes a loopback URL count as deployed.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createSigner } from "../../../lib/cli/sigv4.ts";
import {
  type Answer,
  deviceAnswer,
  type FakeApi,
  failureAnswer,
  keyheal,
  type RecordedRequest,
  runRecord,
  startFakeApi,
} from "./fake-api.ts";
import {
  noAmbientCredentials,
  signingEnv,
  TEST_CREDENTIALS,
  type Verdict,
  verifySigV4,
} from "./sigv4-verifier.ts";

vi.setConfig({ testTimeout: 30_000 });

const REGION = "eu-west-1";
const STAGE = "/prod";

const apis: FakeApi[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface SignedApi {
  api: FakeApi;
  /** KEYHEAL_API: the server's URL with a stage, as API Gateway gives it. */
  url: string;
  verdicts: Verdict[];
}

/**
 * A server that answers `route` only for a request whose signature verifies, and 403 with API
 * Gateway's error type otherwise.
 */
async function signedApi(
  route: (request: RecordedRequest) => Answer | undefined,
): Promise<SignedApi> {
  const verdicts: Verdict[] = [];
  const api = await startFakeApi(async (request) => {
    const verdict = await verifySigV4(request, TEST_CREDENTIALS, REGION);
    verdicts.push(verdict);
    if (!verdict.ok) {
      return {
        status: 403,
        headers: { "x-amzn-errortype": "InvalidSignatureException" },
        body: { message: `The request signature we calculated does not match (${verdict.reason})` },
      };
    }
    if (!request.path.startsWith(`${STAGE}/`)) return undefined;
    return route({ ...request, path: request.path.slice(STAGE.length) });
  });
  apis.push(api);
  return { api, url: `${api.url}${STAGE}`, verdicts };
}

/** `keyheal args… --sigv4` against `target` with the test credentials. */
function signed(
  target: SignedApi,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  return keyheal([...args, "--sigv4"], {
    ...options,
    env: { KEYHEAL_API: target.url, ...signingEnv(), ...options.env },
  });
}

const FAILURE = failureAnswer({
  hint: "resolve by hand",
  attempt: 1,
  keyGeneration: 2,
  runId: "r-1",
});

describe.concurrent("signed calls to a deployed API", () => {
  it("signs a GET with a query of reserved characters, through the stage path, with no bearer token", async () => {
    const target = await signedApi((request) =>
      request.path === "/failures" ? { body: { items: [FAILURE], nextCursor: null } } : undefined,
    );
    const result = await signed(
      target,
      [
        "failures",
        "list",
        "--device",
        "dev:1.a_b",
        "--cause",
        "AUTH_REJECTED",
        "--since",
        "2025-01-31T12:00:00+02:00",
      ],
      // A bearer token in the environment is not sent to a signed API.
      { env: { KEYHEAL_TOKEN: "local-token" } },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("resolve by hand");
    const [request] = target.api.requests;
    expect(request?.query).toMatchObject({
      deviceId: "dev:1.a_b",
      cause: "AUTH_REJECTED",
      since: "2025-01-31T10:00:00.000Z",
    });
    expect(request?.rawUrl).toContain("since=2025-01-31T10%3A00%3A00.000Z");
    expect(request?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAKEYHEALTEST00001\//);
    expect(request?.authorization).not.toContain("Bearer");
    expect(target.verdicts).toEqual([
      expect.objectContaining({ ok: true, region: REGION, service: "execute-api" }),
    ]);
    expect(target.verdicts[0]?.signedHeaders).toEqual(
      expect.arrayContaining(["host", "x-amz-date", "x-amz-security-token", "accept"]),
    );
  });

  it("signs every page of a list, a cursor with + / = included", async () => {
    const target = await signedApi((request) =>
      request.path !== "/devices"
        ? undefined
        : request.query.cursor === undefined
          ? { body: { items: [deviceAnswer({ id: "dev-1" })], nextCursor: "eyJ+a/b=c==" } }
          : { body: { items: [deviceAnswer({ id: "dev-2" })], nextCursor: null } },
    );
    const result = await signed(target, ["devices", "list", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items.map((d: { id: string }) => d.id)).toEqual([
      "dev-1",
      "dev-2",
    ]);
    expect(target.api.requests[1]?.query.cursor).toBe("eyJ+a/b=c==");
    expect(target.verdicts.map((verdict) => verdict.ok)).toEqual([true, true]);
  });

  it("signs a path holding an escaped run id", async () => {
    const id = "arn:aws:states:eu-west-1:123456789012:execution:reconnect:dev-1 run";
    const target = await signedApi((request) =>
      request.path === `/runs/${encodeURIComponent(id)}`
        ? { body: runRecord(id, "SUCCEEDED") }
        : undefined,
    );
    const result = await signed(target, ["runs", "show", id, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).id).toBe(id);
    expect(target.api.requests[0]?.rawUrl).toContain("execution%3Areconnect%3Adev-1%20run");
    expect(target.verdicts[0]?.ok).toBe(true);
  });

  it("signs a POST body, with KEYHEAL_API_SIGV4=1 instead of --sigv4", async () => {
    const target = await signedApi((request) =>
      request.path === "/devices/resolve"
        ? { status: 202, body: { jobId: "j-1", runs: [{ deviceId: "dev-1", runId: "r-1" }] } }
        : undefined,
    );
    const result = await keyheal(
      ["resolve", "ops@dev-1", "--space-key", "--password-stdin", "--json"],
      {
        stdin: "pässword with spaces\n",
        env: { KEYHEAL_API: target.url, KEYHEAL_API_SIGV4: "1", ...signingEnv() },
      },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(target.api.requests[0]?.body).toEqual({
      mode: "space-key",
      devices: [{ id: "dev-1", adminUser: "ops" }],
      password: "pässword with spaces",
    });
    expect(target.verdicts[0]).toMatchObject({ ok: true });
    expect(target.verdicts[0]?.signedHeaders).toEqual(
      expect.arrayContaining(["content-type", "x-amz-content-sha256"]),
    );
  });

  it("exits 2 naming what to do when the API refuses the signature", async () => {
    const target = await signedApi(() => ({ body: { items: [], nextCursor: null } }));
    const wrong = { ...TEST_CREDENTIALS, secretAccessKey: "not-the-secret" };
    const result = await keyheal(["keys", "list", "--sigv4"], {
      env: { KEYHEAL_API: target.url, ...signingEnv(wrong) },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the API refused the signed call: check the AWS credentials");
    expect(result.stderr).toContain("(GET /keys: 403)");
  });

  it("says the credentials expired when the API answers ExpiredTokenException", async () => {
    const api = await startFakeApi(() => ({
      status: 403,
      headers: { "x-amzn-errortype": "ExpiredTokenException:http://internal.amazon.com/" },
      body: { message: "The security token included in the request is expired" },
    }));
    apis.push(api);
    const result = await keyheal(["keys", "list", "--sigv4"], {
      env: { KEYHEAL_API: api.url, ...signingEnv() },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("The security token included in the request is expired");
    expect(result.stderr).toContain("aws sso login");
  });
});

describe.concurrent("a signed API that is down", () => {
  it("exits 2 when nothing answers at the signed API's URL", async () => {
    const api = await startFakeApi(() => undefined);
    const url = `${api.url}${STAGE}`;
    await api.close();
    const result = await keyheal(["devices", "list", "--sigv4"], {
      env: { KEYHEAL_API: url, ...signingEnv() },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot reach the keyheal API at ${url} (ECONNREFUSED)`);
    expect(result.stderr).toContain("check KEYHEAL_API (the API's stage URL)");
  });
});

describe.concurrent("credentials", () => {
  it("issue 14.7: exits 4, its own code, before any call when the credential chain finds nothing", async () => {
    const target = await signedApi(() => ({ body: { items: [], nextCursor: null } }));
    const result = await keyheal(["keys", "list", "--sigv4"], {
      env: { KEYHEAL_API: target.url, AWS_REGION: REGION, ...noAmbientCredentials() },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`no usable AWS credentials to sign calls to ${target.url}`);
    for (const advice of ["aws configure", "AWS_PROFILE", "aws sso login"]) {
      expect(result.stderr).toContain(advice);
    }
    expect(target.api.requests).toEqual([]);
  });

  it("issue 14.7: exits 4 telling to run aws sso login when the profile's SSO session expired", async () => {
    const target = await signedApi(() => ({ body: { items: [], nextCursor: null } }));
    const home = await mkdtemp(join(tmpdir(), "keyheal-sso-"));
    dirs.push(home);
    const startUrl = "https://keyheal-test.awsapps.com/start";
    await mkdir(join(home, ".aws", "sso", "cache"), { recursive: true });
    await writeFile(
      join(home, ".aws", "config"),
      `[profile ops]\nsso_start_url = ${startUrl}\nsso_region = ${REGION}\nsso_account_id = 123456789012\nsso_role_name = Ops\n`,
    );
    const { createHash } = await import("node:crypto");
    const cacheName = `${createHash("sha1").update(startUrl).digest("hex")}.json`;
    await writeFile(
      join(home, ".aws", "sso", "cache", cacheName),
      JSON.stringify({
        accessToken: "expired",
        expiresAt: "2020-01-01T00:00:00Z",
        region: REGION,
        startUrl,
      }),
    );
    const result = await keyheal(["keys", "list", "--sigv4"], {
      env: {
        KEYHEAL_API: target.url,
        AWS_REGION: REGION,
        AWS_PROFILE: "ops",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_CONFIG_FILE: join(home, ".aws", "config"),
        HOME: home,
      },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("SSO session");
    expect(result.stderr).toContain("aws sso login");
    expect(target.api.requests).toEqual([]);
  });

  it("issue 14.7: exits 4 for temporary credentials that already expired", async () => {
    const target = await signedApi(() => ({ body: { items: [], nextCursor: null } }));
    const result = await keyheal(["keys", "list", "--sigv4"], {
      env: {
        KEYHEAL_API: target.url,
        ...signingEnv(),
        AWS_CREDENTIAL_EXPIRATION: "2020-01-01T00:00:00Z",
      },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("expired at 2020-01-01T00:00:00.000Z");
    expect(target.api.requests).toEqual([]);
  });

  it("refuses --sigv4 without KEYHEAL_API, with --data-dir, and a region it cannot find", async () => {
    const target = await signedApi(() => undefined);
    const noApi = await keyheal(["keys", "list", "--sigv4"], { env: signingEnv() });
    expect(noApi.code).toBe(2);
    expect(noApi.stderr).toContain("set KEYHEAL_API to its URL");
    const withDir = await keyheal(["keys", "list", "--sigv4", "--data-dir", target.api.dataDir], {
      env: signingEnv(),
    });
    expect(withDir.code).toBe(2);
    expect(withDir.stderr).toContain("--sigv4 signs calls to the deployed API in KEYHEAL_API");
    const { AWS_REGION: _region, ...noRegion } = signingEnv();
    const region = await keyheal(["keys", "list", "--sigv4"], {
      env: { KEYHEAL_API: target.url, ...noRegion },
    });
    expect(region.code).toBe(2);
    expect(region.stderr).toContain("set AWS_REGION to the API's region");
    expect(target.api.requests).toEqual([]);
  });
});

describe("the verifying server refuses a signature that does not cover the request", () => {
  /**
   * Signs a request with the CLI's signer, then sends it with one part changed: the server must
   * refuse every change to a signed part, or the tests above would prove nothing.
   */
  it.each([
    ["the body", { body: '{"mode":"space-key","password":"other"}' }],
    ["the path", { path: `${STAGE}/devices/resolve2` }],
    ["a query value", { query: "?deviceId=dev-2" }],
    ["a signed header", { headers: { accept: "text/html" } }],
    ["the session token", { headers: { "x-amz-security-token": "another-token" } }],
  ])("changed %s: 403", async (_part, change) => {
    const target = await signedApi(() => ({ status: 202, body: {} }));
    const sign = await createSigner(REGION, target.url, async () => ({ ...TEST_CREDENTIALS }));
    const url = new URL(`${target.url}/devices/resolve?deviceId=dev-1`);
    const body = '{"mode":"space-key","password":"pw"}';
    const headers = await sign({
      method: "POST",
      url,
      headers: { accept: "application/json", "content-type": "application/json" },
      body,
    });
    const send = async (tampered: {
      body?: string;
      path?: string;
      query?: string;
      headers?: Record<string, string>;
    }) => {
      const sentUrl = new URL(url);
      if (tampered.path) sentUrl.pathname = tampered.path;
      if (tampered.query) sentUrl.search = tampered.query;
      const response = await fetch(sentUrl, {
        method: "POST",
        headers: { ...headers, ...tampered.headers },
        body: tampered.body ?? body,
      });
      await response.text();
      return response.status;
    };
    expect(await send({})).toBe(202);
    expect(await send(change)).toBe(403);
    expect(target.verdicts.map((verdict) => verdict.ok)).toEqual([true, false]);
  });
});
