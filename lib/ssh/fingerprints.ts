/**
 * Host keys: the fingerprint of the key a device shows, checked against the pinned one before any
 * credential is sent (docs/security.md).
 *
 * @module
 */
import { fingerprintOf } from "../keys/fingerprint.ts";
import { HostKeyMismatchError } from "./errors.ts";

/** SHA256 fingerprint of an SSH public-key blob, as `ssh-keygen -l` prints it. */
export const sha256Fingerprint = fingerprintOf;

/**
 * The check ssh2 runs on the host key (`hostVerifier`) before authentication: it records the
 * fingerprint seen and refuses a key that differs from `pinned`. Without a pin, any key is
 * accepted and becomes the one pinned on first contact.
 */
export class HostKeyCheck {
  readonly #host: string;
  readonly #pinned: string | undefined;
  #seen: string | undefined;
  #mismatch: HostKeyMismatchError | undefined;

  constructor(host: string, pinned: string | undefined) {
    this.#host = host;
    this.#pinned = pinned;
  }

  /** The fingerprint of the key the device showed; undefined before the key exchange. */
  get seen(): string | undefined {
    return this.#seen;
  }

  /** Set when the device showed a key other than the pinned one. */
  get mismatch(): HostKeyMismatchError | undefined {
    return this.#mismatch;
  }

  /** ssh2's `hostVerifier`: true lets the handshake go on to authentication. */
  readonly verify = (key: Buffer): boolean => {
    this.#seen = sha256Fingerprint(key);
    if (this.#pinned && this.#pinned !== this.#seen) {
      this.#mismatch = new HostKeyMismatchError(this.#host, this.#pinned, this.#seen);
      return false;
    }
    return true;
  };
}
