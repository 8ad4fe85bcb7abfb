/**
 * SigV4 signatures for calls to a deployed keyheal API (API Gateway with IAM auth, service
 * `execute-api`), with credentials from the standard AWS chain: environment, SSO, web identity,
 * shared config and credentials files, process, container and instance metadata. The SDK
 * modules load only when a signed call is made, so local use stays as fast as before.
 *
 * @module
 */
import { CredentialsError } from "./errors.ts";

/** A request as it will go on the wire; header names lower-case. */
export interface RequestToSign {
  method: string;
  url: URL;
  headers: Readonly<Record<string, string>>;
  body?: string | undefined;
}

/** Resolves to the headers to send: the request's own plus `authorization`, `x-amz-*`. */
export type SignRequest = (request: RequestToSign) => Promise<Record<string, string>>;

/** What the credential chain resolves to (the SDK's `AwsCredentialIdentity`). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

export type CredentialSource = () => Promise<AwsCredentials>;

const WHAT_TO_DO =
  "configure credentials with `aws configure`, choose a profile with AWS_PROFILE=NAME, or run `aws sso login --profile NAME` when the profile uses IAM Identity Center";

export const SIGNING_SERVICE = "execute-api";

/**
 * The credentials to sign with, checked: a chain that finds nothing, or credentials already
 * expired, become a {@link CredentialsError} that says what to do.
 */
function checkedCredentials(source: CredentialSource, baseUrl: string): CredentialSource {
  return async () => {
    let credentials: AwsCredentials;
    try {
      credentials = await source();
    } catch (error) {
      // The chain's own words say which source failed (an expired SSO session, a bad profile).
      const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
      throw new CredentialsError(
        `no usable AWS credentials to sign calls to ${baseUrl} (${reason}): ${WHAT_TO_DO}`,
        { cause: error },
      );
    }
    const expiration = credentials.expiration;
    if (expiration !== undefined && expiration.getTime() <= Date.now()) {
      throw new CredentialsError(
        `the AWS credentials for ${baseUrl} expired at ${expiration.toISOString()}: refresh them (\`aws sso login --profile NAME\` for an IAM Identity Center profile, new temporary credentials otherwise), or ${WHAT_TO_DO}`,
      );
    }
    return credentials;
  };
}

/**
 * A signer for `region`, with credentials from the default AWS chain unless `source` is given.
 * The chain reads the process environment itself (AWS_PROFILE, AWS_ACCESS_KEY_ID, …): that is the
 * standard contract of AWS tools, which users expect keyheal to follow.
 */
export async function createSigner(
  region: string,
  baseUrl: string,
  source?: CredentialSource,
): Promise<SignRequest> {
  const [{ SignatureV4 }, { Sha256 }] = await Promise.all([
    import("@smithy/signature-v4"),
    import("@aws-crypto/sha256-js"),
  ]);
  const chain = source ?? (await import("@aws-sdk/credential-provider-node")).defaultProvider();
  const signer = new SignatureV4({
    credentials: checkedCredentials(chain, baseUrl),
    region,
    service: SIGNING_SERVICE,
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const seen = query[name];
      query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      // As on the wire (percent-encoded once); the signer encodes it again, as execute-api expects.
      path: url.pathname,
      query,
      // fetch sends Host itself, as url.host: signed here, not passed on.
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    const { host: _host, ...sent } = signed.headers;
    return sent;
  };
}
