/**
 * For the CLI's SigV4 tests: checks a received request's signature the way API Gateway does,
 * by recomputing it from what arrived on the wire (method, raw path, query, the headers the
 * client listed as signed, and the body) with known credentials.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { RecordedRequest } from "./fake-api.ts";

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Static credentials for the tests, given to the CLI through AWS_* variables. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIAKEYHEALTEST00001",
  secretAccessKey: "keyhealTestSecret/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "keyheal-test-session-token//+==",
} as const satisfies TestCredentials;

/** The environment that makes the CLI sign with {@link TEST_CREDENTIALS} and nothing else. */
export function signingEnv(
  credentials: TestCredentials = TEST_CREDENTIALS,
  region = "eu-west-1",
): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    AWS_REGION: region,
    ...noAmbientCredentials(),
  };
}

/**
 * Keeps the credential chain on this machine: no instance metadata (which is not loopback), no
 * shared config or credentials files of whoever runs the tests.
 */
export function noAmbientCredentials(): Record<string, string> {
  return {
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/keyheal-test/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/keyheal-test/credentials",
  };
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export interface Verdict {
  ok: boolean;
  /** Why the signature was refused. */
  reason?: string;
  signedHeaders?: string[];
  region?: string;
  service?: string;
}

function header(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/**
 * Whether `request` carries a valid SigV4 signature by `credentials` for `region` and
 * `service`, with the headers a correct client signs (host, x-amz-date, the session token, the
 * content type of a body).
 */
export async function verifySigV4(
  request: RecordedRequest,
  credentials: TestCredentials,
  region: string,
  service = "execute-api",
): Promise<Verdict> {
  const authorization = header(request, "authorization");
  const match = authorization === undefined ? null : AUTHORIZATION.exec(authorization);
  if (!match) return { ok: false, reason: `not a SigV4 authorization: ${authorization}` };
  const [, keyId, , scopeRegion, scopeService, signedList] = match as unknown as string[];
  const signedHeaders = (signedList as string).split(";");
  const refuse = (reason: string): Verdict => ({ ok: false, reason, signedHeaders });
  if (keyId !== credentials.accessKeyId) return refuse(`access key ${keyId}`);
  if (scopeRegion !== region) return refuse(`region ${scopeRegion}, expected ${region}`);
  if (scopeService !== service) return refuse(`service ${scopeService}, expected ${service}`);
  const required = ["host", "x-amz-date"];
  if (credentials.sessionToken) required.push("x-amz-security-token");
  if (request.rawBody !== "") required.push("content-type");
  for (const name of required) {
    if (!signedHeaders.includes(name)) return refuse(`${name} is not signed`);
  }
  // The signer re-adds the token it knows: the one that arrived must be that one.
  if (header(request, "x-amz-security-token") !== credentials.sessionToken) {
    return refuse("the security token is not the session's");
  }
  const amzDate = header(request, "x-amz-date") ?? "";
  const dated = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dated) return refuse(`x-amz-date ${amzDate}`);
  const [, y, mo, d, h, mi, s] = dated;
  const signingDate = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return refuse("stale x-amz-date");

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    // The payload hash is recomputed from the body that arrived, never taken from the header.
    if (name === "x-amz-content-sha256") continue;
    const value = header(request, name);
    if (value === undefined) return refuse(`signed header ${name} was not sent`);
    headers[name] = value;
  }
  const url = new URL(request.rawUrl, `http://${header(request, "host")}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
    applyChecksum: signedHeaders.includes("x-amz-content-sha256"),
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      ...(request.rawBody === "" ? {} : { body: request.rawBody }),
    },
    { signingDate },
  );
  if (expected.headers.authorization !== authorization) {
    return refuse("the signature does not match the request");
  }
  return { ok: true, signedHeaders, region: scopeRegion, service: scopeService };
}
