import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import ssh2, {
  type AuthContext,
  type Connection,
  type PublicKeyAuthContext,
  type Server,
  type ServerChannel,
} from "ssh2";
import { parseAuthorizedKeysLine } from "../authorized-keys/index.ts";
import { fingerprintOf } from "../keys/fingerprint.ts";
import { generateKeyPair } from "../keys/index.ts";
import { SandboxDeviceBase } from "./sandbox-device.ts";

// ssh2 is CommonJS: Node sees only its default export.
const { Server: SshServer, utils } = ssh2;

/** What sshd gives a session when the user's environment says nothing more. */
const SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * A demo device for machines without OpenSSH's sshd: an in-process SSH server (ssh2 `Server`) on
 * 127.0.0.1 with the same surface as {@link SandboxDevice}. It runs the real replacement
 * protocol: a login is accepted only for a key listed in the sandbox's authorized_keys (read at
 * every attempt, as sshd does), and exec runs the command with a real `/bin/sh` in the sandbox
 * directory, which is the session's HOME, after the home's `.ssh/rc` when there is one (as sshd
 * runs it). Interactive shells, ptys, subsystems and forwarding are refused. It serves `npm start`
 * on machines without sshd, and the unit tests run the protocol's scenarios against it without
 * root (test/harness/protocol-scenarios.ts); the integration tests run them on real sshd.
 */
export class SimulatedDevice extends SandboxDeviceBase {
  readonly hostKeyFingerprint: string;
  /** Where the device reads keys, relative to its home (sshd_config's AuthorizedKeysFile). */
  readonly authorizedKeysSetting: string;
  #ssh: Server;
  #listener: NetServer | undefined;
  #sockets = new Set<Socket>();
  #children = new Set<ChildProcess>();

  private constructor(dir: string, authorizedKeysSetting: string) {
    super(dir);
    this.authorizedKeysSetting = authorizedKeysSetting;
    const hostKey = generateKeyPair({ type: "ed25519" });
    this.hostKeyFingerprint = fingerprintOf(hostKey.blob);
    // Connections arrive through injectSocket from a listener this device owns, so stop() can
    // close the listener and cut every open connection.
    this.#ssh = new SshServer({ hostKeys: [hostKey.privateKey] }, (client) => this.#serve(client));
  }

  override get authorizedKeysFile(): string {
    return join(this.dir, this.authorizedKeysSetting);
  }

  /**
   * A device holding `authorizedKeys`, listening. `authorizedKeysFile` is where it reads keys,
   * relative to its home: `authorized_keys` for the demo, `.ssh/authorized_keys` (sshd's default,
   * and keyheal's) for the protocol's scenarios.
   */
  static async create(
    authorizedKeys: string,
    options: { authorizedKeysFile?: string } = {},
  ): Promise<SimulatedDevice> {
    const device = new SimulatedDevice(
      await mkdtemp(join(tmpdir(), "keyheal-device-")),
      options.authorizedKeysFile ?? "authorized_keys",
    );
    await mkdir(dirname(device.authorizedKeysFile), { recursive: true, mode: 0o700 });
    await writeFile(device.authorizedKeysFile, authorizedKeys, { mode: 0o600 });
    await device.start();
    return device;
  }

  /** Listens on 127.0.0.1; a restarted device keeps its port, as a real one would. */
  async start(): Promise<void> {
    if (this.#listener) return;
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      const listener = createServer((socket) => this.#accept(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          listener.once("error", reject);
          listener.listen(this.port, this.host, () => {
            listener.off("error", reject);
            resolve();
          });
        });
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const address = listener.address();
      if (address && typeof address !== "string") this.port = address.port;
      listener.on("error", () => {});
      this.#listener = listener;
      return;
    }
    throw new Error(`the simulated device in ${this.dir} cannot listen on port ${this.port}`, {
      cause: lastError,
    });
  }

  /** Stops listening and cuts every open connection and running command: the port refuses. */
  override async stop(): Promise<void> {
    const listener = this.#listener;
    if (!listener) return;
    this.#listener = undefined;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    for (const child of this.#children) killGroup(child);
    await closed;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    socket.setNoDelay(true);
    this.#ssh.injectSocket(socket);
  }

  #serve(client: Connection): void {
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      this.#authenticate(ctx).then(
        (ok) => (ok ? ctx.accept() : ctx.reject(["publickey"])),
        () => ctx.reject(["publickey"]),
      );
    });
    // Without listeners, ssh2 answers every other request (pty, shell, env, subsystem, sftp, x11,
    // agent and TCP/stream forwarding, global requests) with a failure reply: refused politely.
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (acceptExec, _reject, info) => this.#exec(acceptExec(), info.command));
      });
    });
  }

  /**
   * Public key only, for the device's user, against authorized_keys as it is now. Like sshd, a
   * file of any size is read: only the lines that hold the offered key's base64 are parsed.
   */
  async #authenticate(ctx: AuthContext): Promise<boolean> {
    if (ctx.method !== "publickey" || ctx.username !== this.user) return false;
    const needle = ctx.key.data.toString("base64");
    const text = (await readFile(this.authorizedKeysFile)).toString("latin1");
    return text.split("\n").some((line) => {
      if (!line.includes(needle)) return false;
      const parsed = parseAuthorizedKeysLine(line);
      if (parsed.kind !== "key" || parsed.certAuthority) return false;
      return offers(ctx, parsed.algorithm, parsed.blob);
    });
  }

  #exec(channel: ServerChannel, command: string): void {
    // sshd runs ~/.ssh/rc with the session's output before the command (sshd(8), SSHRC).
    const withRc = '[ -f .ssh/rc ] && /bin/sh .ssh/rc </dev/null; exec /bin/sh -c "$1"';
    const child = spawn("/bin/sh", ["-c", withRc, "sh", command], {
      cwd: this.dir,
      env: {
        HOME: this.dir,
        USER: this.user,
        LOGNAME: this.user,
        SHELL: "/bin/sh",
        PATH: SESSION_PATH,
      },
      stdio: ["pipe", "pipe", "pipe"],
      // Its own process group, so that a cut takes every process the command started with it.
      detached: true,
    });
    this.#children.add(child);
    child.stdin.on("error", () => {}); // a command that does not read its stdin
    channel.on("error", () => {});
    channel.stderr.on("error", () => {});
    channel.pipe(child.stdin);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      this.#children.delete(child);
      if (code !== null) channel.exit(code);
      else channel.exit((signal ?? "SIGKILL").replace(/^SIG/, ""), false, "");
      channel.end();
    };
    child.on("close", finish);
    child.on("error", () => {
      channel.stderr.write(`sh: cannot run /bin/sh\n`);
      finish(127, null);
    });
    // The client went away mid-command: the command and everything it started go with it, so a
    // cut step is cut where it was (a write half done is never finished later, unseen).
    channel.on("close", () => {
      if (!finished) killGroup(child);
    });
  }
}

/** SIGKILL to a command's process group (spawned `detached`, it leads its own group). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Whether the client offers this key and, when it signs, whether the signature holds. */
function offers(ctx: PublicKeyAuthContext, algorithm: string, blob: Buffer): boolean {
  if (ctx.key.algo !== algorithm || !ctx.key.data.equals(blob)) return false;
  if (!ctx.signature) return true; // a query: "would you accept this key?"
  const key = utils.parseKey(`${algorithm} ${blob.toString("base64")}`);
  if (key instanceof Error || !ctx.blob) return false;
  return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}
