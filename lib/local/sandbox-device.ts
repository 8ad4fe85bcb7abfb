import { readFile, rm, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";

/**
 * What both kinds of demo device share (docs/architecture.md, Glossary: demo device): a server on
 * 127.0.0.1 for the current user, whose authorized_keys and everything else live in its own
 * sandbox directory, removed with it.
 */
export abstract class SandboxDeviceBase {
  readonly dir: string;
  readonly user = userInfo().username;
  readonly host = "127.0.0.1";
  port = 0;

  protected constructor(dir: string) {
    this.dir = dir;
  }

  /** Absolute path of the device's authorized_keys, in its sandbox directory. */
  abstract get authorizedKeysFile(): string;

  /** Stops the server: connections to its port are refused until it starts again. */
  abstract stop(): Promise<void>;

  readAuthorizedKeys(): Promise<string> {
    return readFile(this.authorizedKeysFile, "utf8");
  }

  writeAuthorizedKeys(content: string): Promise<void> {
    return writeFile(this.authorizedKeysFile, content, { mode: 0o600 });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
