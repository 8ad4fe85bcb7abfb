/** Runs the real ssh-keygen against a temporary directory, so tests compare with OpenSSH itself. */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";

/** A scratch directory for key files; call `remove()` in afterAll. */
export class KeyDir {
  readonly path = mkdtempSync(join(tmpdir(), "keyheal-keys-"));
  #counter = 0;

  /** Writes `content` to a new file (private keys need mode 0600 or ssh-keygen refuses them). */
  write(content: string, mode = 0o600): string {
    const file = this.#next();
    writeFileSync(file, content, { mode });
    return file;
  }

  /**
   * Has ssh-keygen create a key, e.g. `generate(["-t", "rsa", "-b", "2048", "-m", "PEM"])`.
   * `-N ''` (no passphrase) is added unless `args` contains `-N`.
   */
  generate(args: string[], comment = "made-by-ssh-keygen"): GeneratedKey {
    const file = this.#next();
    const passphraseArgs = args.includes("-N") ? [] : ["-N", ""];
    sshKeygen(["-q", ...args, ...passphraseArgs, "-C", comment, "-f", file]);
    return {
      file,
      privateKey: readFileSync(file, "utf8"),
      publicKey: readFileSync(`${file}.pub`, "utf8"),
      publicFile: `${file}.pub`,
    };
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  #next(): string {
    this.#counter += 1;
    return join(this.path, `key${this.#counter}`);
  }
}

export interface GeneratedKey {
  file: string;
  privateKey: string;
  publicKey: string;
  publicFile: string;
}

/** Runs ssh-keygen without a shell and returns its stdout. */
export function sshKeygen(args: string[]): string {
  return execFileSync(SSH_KEYGEN, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** `ssh-keygen -lf <file>` split into its parts, e.g. `{ bits: 256, fingerprint: "SHA256:…" }`. */
export function sshKeygenFingerprint(file: string): { bits: number; fingerprint: string } {
  const [bits = "", fingerprint = ""] = sshKeygen(["-lf", file]).trim().split(" ");
  return { bits: Number(bits), fingerprint };
}

/** `ssh-keygen -y -f <file>`: the public key line OpenSSH derives from a private key file. */
export function sshKeygenPublicKey(file: string): string {
  return sshKeygen(["-y", "-f", file]).trim();
}

/** First two fields ("type base64") of a public key line. */
export function typeAndBlob(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}
