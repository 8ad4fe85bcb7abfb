import type { Cause } from "../contract/vocabulary.ts";

export { CAUSE_NAMES, type Cause } from "../contract/vocabulary.ts";

/**
 * The catalogue of failure causes. Every failed operation is recorded with exactly one of
 * these, and each carries the one-line handling step an operator should take. The names are
 * the contract's (lib/contract/vocabulary.ts): every one has its entry here, and no other.
 */
export const CAUSES = {
  INVALID_PRIVATE_KEY: {
    summary: "The private key could not be used: unparseable, or a wrong or missing passphrase.",
    hint: "Check the key file and its passphrase (ssh-keygen -y -f KEY), then import the correct key and retry.",
  },
  UNSUPPORTED_KEY_TYPE: {
    summary: "The key type is not supported (DSA, short RSA, or an unknown algorithm).",
    hint: "Generate an ed25519 key (ssh-keygen -t ed25519) or RSA of at least 2048 bits and use that instead.",
  },
  AUTH_REJECTED: {
    summary: "The device accepted none of the keys keyheal holds.",
    hint: "authorized_keys was modified or a custom key is in use: restore the file, or resolve the conflict by hand with the admin password or your custom key.",
  },
  HOST_KEY_MISMATCH: {
    summary:
      "The device presented a host key that differs from the pinned one; no credential was sent.",
    hint: "Confirm the device was reinstalled (compare ssh-keyscan with the console), then update its pinned fingerprint; otherwise treat it as an interception attempt.",
  },
  HOST_KEY_NOT_PINNED: {
    summary: "A password would have gone to a host whose key is not pinned yet.",
    hint: "Give the device's host-key fingerprint (inventory hostKeyFingerprint) or let a key-based check pin it first, then retry.",
  },
  SECURITY_GROUP_BLOCKS_SSH: {
    summary: "No security-group rule admits TCP port 22 from keyheal's source.",
    hint: "Add an inbound rule: TCP 22 from keyheal's source security group or CIDR, then retry.",
  },
  CONNECTION_REFUSED: {
    summary: "The device refused the connection: sshd is down or the port is closed.",
    hint: "Start sshd on the device (systemctl start ssh) and check the port, then retry.",
  },
  CONNECTION_TIMEOUT: {
    summary: "The TCP connection timed out: a firewall or filter drops the traffic.",
    hint: "Check firewall rules and network ACLs between keyheal and the device for port 22, then retry.",
  },
  NETWORK_UNREACHABLE: {
    summary: "There is no route to the device.",
    hint: "Check the device address, routing and VPC/subnet reachability, then retry.",
  },
  CONNECTION_LOST: {
    summary: "The connection dropped mid-operation; authorized_keys was left consistent.",
    hint: "Check that the device stayed up (it may have rebooted or been stopped), then retry: the next run finishes the change.",
  },
  INSTANCE_NOT_RUNNING: {
    summary: "The instance is not running (stopped, started or detached mid-process).",
    hint: "Start the instance and wait until it passes its status checks; keyheal heals it on reconnect.",
  },
  SSH_CONFIG_MODIFIED: {
    summary: "The new key was written but sshd refused it; the change was rolled back.",
    hint: "Check sshd_config (AuthorizedKeysFile, PubkeyAcceptedAlgorithms) and StrictModes permissions (chmod go-w ~ ~/.ssh), then retry.",
  },
  WRITE_FAILED: {
    summary: "authorized_keys could not be written safely; nothing was changed.",
    hint: "Check for a read-only or full file system, an immutable file (lsattr), or a symlinked ~/.ssh or authorized_keys, fix it, then retry.",
  },
  CONCURRENT_MODIFICATION: {
    summary: "authorized_keys changed while keyheal was editing it; nothing was overwritten.",
    hint: "Retry: keyheal re-reads the file and merges its change with the new content.",
  },
  AUTHORIZED_KEYS_UNPARSEABLE: {
    summary: "A line keyheal must change in authorized_keys cannot be parsed.",
    hint: "Fix the named line of authorized_keys by hand (an unclosed quote, for example), then retry.",
  },
  OUTPUT_TOO_LARGE: {
    summary: "The device sent more output than keyheal reads; nothing was changed.",
    hint: "Check the size of authorized_keys (keyheal reads at most 1 MiB) and that the login prints nothing endless, then retry.",
  },
  REMOTE_PROTOCOL: {
    summary:
      "The device ran something other than keyheal's command (a forced command= on the key, or a restricted shell).",
    hint: "Remove the command= option or restricted shell from the key keyheal uses, or resolve by hand with the admin password, then retry.",
  },
  SUDO_FAILED: {
    summary:
      "sudo did not give keyheal a root shell: it refused the password, needs one, or requires a tty.",
    hint: "Check that the login user may sudo (sudo -l), give its password, and remove requiretty for it, then retry.",
  },
  AUTHORIZED_KEYS_PATH_INVALID: {
    summary: "The device's authorizedKeysPath uses a form sshd would not expand the same way.",
    hint: "Use a path relative to the home, or one with %h, %u, %U, %% or a leading ~/ only, as in sshd_config's AuthorizedKeysFile, then retry.",
  },
  USER_CREATE_FAILED: {
    summary: "The admin user is missing and could not be created.",
    hint: "Log in with a user that is root or may sudo (useradd), or create the user by hand, then retry.",
  },
  TIMEOUT: {
    summary: "The device did not answer in time (handshake or command).",
    hint: "Check the device's load and that the port really serves SSH, then retry.",
  },
  INTERNAL: {
    summary: "An unexpected error inside keyheal.",
    hint: "Retry once; if it fails again, report it with the failure id and the run id.",
  },
} as const satisfies Record<Cause, { summary: string; hint: string }>;

/**
 * Where an operation changes what a cause asks of the operator: when resolving by hand, a
 * refused login means the operator's own password or key was wrong, not that the device drifted.
 */
const OPERATION_HINTS: Readonly<Partial<Record<string, Partial<Record<Cause, string>>>>> = {
  RESOLVE: {
    AUTH_REJECTED:
      "The device refused the admin password or custom key you gave: check the admin user and its password (or the key and its passphrase), then resolve again.",
  },
};

/** The handling step for a cause (of `operation`, when given), after the failed-task FAQ. */
export function hintFor(cause: Cause, operation?: string): string {
  return (
    (operation === undefined ? undefined : OPERATION_HINTS[operation]?.[cause]) ??
    CAUSES[cause].hint
  );
}
