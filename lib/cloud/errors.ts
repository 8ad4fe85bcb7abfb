/** Base class of every error raised by the cloud checks (EC2 inventory, diagnosis, TCP probe). */
export class CloudError extends Error {
  override name = "CloudError";
}

/** A CIDR or address that is not a valid IPv4 or IPv6 block. */
export class InvalidCidrError extends CloudError {
  readonly cidr: string;
  constructor(cidr: string) {
    super(
      `${JSON.stringify(cidr.slice(0, 100))} is not a CIDR block: give an IPv4 block such as ` +
        `10.0.0.0/16 (or an address such as 10.0.0.5), or an IPv6 block such as 2001:db8::/64.`,
    );
    this.name = "InvalidCidrError";
    this.cidr = cidr;
  }
}

/** A string that is not an EC2 instance id. */
export class InvalidInstanceIdError extends CloudError {
  readonly instanceId: string;
  constructor(instanceId: string) {
    super(
      `${JSON.stringify(instanceId.slice(0, 100))} is not an EC2 instance id: expected i- ` +
        "followed by 8 to 17 hex digits.",
    );
    this.name = "InvalidInstanceIdError";
    this.instanceId = instanceId;
  }
}

/** A TCP port outside 1..65535, or not an integer. */
export class InvalidPortError extends CloudError {
  readonly port: number;
  constructor(port: number) {
    super(`${port} is not a TCP port: expected an integer from 1 to 65535.`);
    this.name = "InvalidPortError";
    this.port = port;
  }
}

/** A probe timeout that is not a positive, finite number of milliseconds. */
export class InvalidTimeoutError extends CloudError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`${timeoutMs} is not a timeout: expected a positive number of milliseconds.`);
    this.name = "InvalidTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** An EC2 API call failed. The SDK error is `cause`; `transient` says whether a retry may help. */
export class Ec2RequestError extends CloudError {
  /** The EC2 operation, such as `DescribeInstances`. */
  readonly operation: string;
  /** The AWS error code, such as `UnauthorizedOperation` or `RequestLimitExceeded`. */
  readonly awsCode: string;
  /** Throttling or a server-side fault: the workflow may retry. */
  readonly transient: boolean;
  readonly requestId: string | undefined;

  constructor(operation: string, error: unknown) {
    const details = sdkErrorDetails(error);
    super(
      `EC2 ${operation} failed: ${details.code}: ${details.message}` +
        (details.code === "UnauthorizedOperation" || details.code === "AccessDenied"
          ? ` (grant keyheal's role ec2:${operation})`
          : ""),
      { cause: error },
    );
    this.name = "Ec2RequestError";
    this.operation = operation;
    this.awsCode = details.code;
    this.transient = details.transient;
    this.requestId = details.requestId;
  }
}

const TRANSIENT_CODES = new Set([
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "Unavailable",
  "TimeoutError",
  "RequestTimeout",
]);

/** The AWS error code of an SDK error (`name` in SDK v3; `Code` in raw query-protocol errors). */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { Code, name } = error as { Code?: unknown; name?: unknown };
  if (typeof Code === "string") return Code;
  if (typeof name === "string") return name;
  return undefined;
}

function sdkErrorDetails(error: unknown): {
  code: string;
  message: string;
  transient: boolean;
  requestId: string | undefined;
} {
  const code = awsErrorCode(error) ?? "Unknown";
  const message = error instanceof Error ? error.message : String(error);
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  const status = fields.$metadata?.httpStatusCode;
  const transient =
    TRANSIENT_CODES.has(code) ||
    fields.$retryable !== undefined ||
    (typeof status === "number" && status >= 500);
  return { code, message, transient, requestId: fields.$metadata?.requestId };
}
