import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { InvalidPortError, InvalidTimeoutError } from "./errors.ts";

/** Why a TCP connection could not be opened, named as failure causes. */
export type ProbeFailureCause = "CONNECTION_REFUSED" | "CONNECTION_TIMEOUT" | "NETWORK_UNREACHABLE";

export type ProbeResult =
  | { open: true; ms: number }
  | { open: false; cause: ProbeFailureCause; code?: string | undefined };

const REFUSED = new Set(["ECONNREFUSED", "ECONNRESET"]);
const TIMED_OUT = new Set(["ETIMEDOUT", "ETIME"]);

/**
 * The cause for a socket error code. Pure. A reset during connect is a refusal (a firewall's
 * REJECT with tcp-reset); no route, no such host and anything unrecognised are unreachable.
 */
export function classifyConnectError(code: string | undefined): ProbeFailureCause {
  if (code !== undefined && REFUSED.has(code)) return "CONNECTION_REFUSED";
  if (code !== undefined && TIMED_OUT.has(code)) return "CONNECTION_TIMEOUT";
  return "NETWORK_UNREACHABLE";
}

/**
 * Opens a TCP connection to `host:port` and closes it at once. Never rejects for network
 * reasons: a refused, filtered (no answer within `timeoutMs`) or unroutable target is a result.
 *
 * @throws InvalidPortError | InvalidTimeoutError for bad arguments.
 */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidPortError(port);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidTimeoutError(timeoutMs);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ open: false, cause: "CONNECTION_TIMEOUT", code: "ETIMEDOUT" }),
      timeoutMs,
    );
    socket.once("connect", () =>
      finish({ open: true, ms: Math.round((performance.now() - started) * 10) / 10 }),
    );
    socket.once("error", (error) => {
      const code = errorCode(error);
      finish({ open: false, cause: classifyConnectError(code), code });
    });
  });
}

/** The errno code, also from the AggregateError Node raises when every address of a name failed. */
function errorCode(error: unknown): string | undefined {
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === "string") return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const innerCode = errorCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}
