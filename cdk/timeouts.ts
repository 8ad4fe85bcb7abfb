/**
 * Function timeouts derived from the SSH timeouts the functions run with, so raising an SSH
 * timeout can never leave Lambda cutting a heal short halfway (which the protocol survives, but
 * which turns every slow device into a TIMEOUT failure).
 */

export interface SshTimeoutSettings {
  connectMs: number;
  handshakeMs: number;
  commandMs: number;
}

/**
 * The most a task opens and runs over SSH, after lib/replace/heal-device.ts: the first session,
 * a fresh one to prove the new key, and another after pruning older generations (3
 * connections); remote uid and user creation, read, stage + commit twice, a verification command
 * twice and a rollback (stage + commit) twice: 13 commands, rounded up to 14.
 */
export const SSH_BUDGET = { connections: 3, commands: 14 } as const;

/** Store and Secrets Manager calls, and a cold start, around the SSH work. */
const OVERHEAD_SECONDS = 30;

/** Lambda's ceiling. */
export const MAX_FUNCTION_TIMEOUT_SECONDS = 900;

/** What a function does, which decides what its timeout is made of. */
export type TimeoutProfile = "ssh" | "probe" | "store";

/** Thrown when the SSH timeouts add up to more than one Lambda invocation may run. */
export class TimeoutBudgetError extends Error {
  readonly seconds: number;

  constructor(seconds: number) {
    super(
      `The SSH timeouts add up to ${seconds} s per heal, more than Lambda's ${MAX_FUNCTION_TIMEOUT_SECONDS} s: ` +
        "lower keyheal:sshConnectTimeoutMs, keyheal:sshHandshakeTimeoutMs or keyheal:sshCommandTimeoutMs.",
    );
    this.name = "TimeoutBudgetError";
    this.seconds = seconds;
  }
}

/**
 * Seconds a function of `profile` may run:
 * - `ssh` (Detect, Replace, VerifyResolved, Resolve): the whole {@link SSH_BUDGET} plus overhead;
 * - `probe` (Diagnose): one TCP connect plus overhead for the EC2 calls;
 * - `store` (leases, status, failures, keys, the fleet listing): the overhead alone, doubled
 *   for paging through a large fleet.
 *
 * @throws TimeoutBudgetError when an SSH heal could not fit in one invocation.
 */
export function functionTimeoutSeconds(profile: TimeoutProfile, ssh: SshTimeoutSettings): number {
  switch (profile) {
    case "ssh": {
      const sshMs =
        SSH_BUDGET.connections * (ssh.connectMs + ssh.handshakeMs) +
        SSH_BUDGET.commands * ssh.commandMs;
      const seconds = Math.ceil(sshMs / 1000) + OVERHEAD_SECONDS;
      if (seconds > MAX_FUNCTION_TIMEOUT_SECONDS) throw new TimeoutBudgetError(seconds);
      return seconds;
    }
    case "probe":
      return Math.ceil(ssh.connectMs / 1000) + OVERHEAD_SECONDS;
    case "store":
      return 2 * OVERHEAD_SECONDS;
  }
}

/**
 * The device lease's time to live. Every SSH step extends the lease when it starts, so it only
 * has to outlast the longest stretch between two extensions: one SSH step and its longest retry
 * pause, plus every step on the failure path that does not extend it. test/cdk/lease-budget.test.ts
 * computes that stretch from the ASL files and checks it against this.
 */
export function leaseTtlSeconds(ssh: SshTimeoutSettings): number {
  return Math.max(15 * 60, 4 * functionTimeoutSeconds("ssh", ssh));
}
