/**
 * The raw ssh2 heal of one device, with nothing around it: connect with the old key (host key
 * pinned, curve25519), one atomic rewrite of authorized_keys, a fresh connection with the new key.
 */
import { createHash } from "node:crypto";
import { Client, type ConnectConfig } from "ssh2";

export interface RawDevice {
  host: string;
  port: number;
  user: string;
  path: string;
  hostKeyFingerprint: string;
}

export interface RawKeys {
  oldPrivateKey: string;
  newPrivateKey: string;
  /** The old key's base64 blob: lines holding it are dropped. */
  oldBlob: string;
  newLine: string;
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

function connect(device: RawDevice, privateKey: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("ready", () => resolve(client));
    client.once("error", reject);
    const config: ConnectConfig = {
      host: device.host,
      port: device.port,
      username: device.user,
      privateKey,
      readyTimeout: 30_000,
      algorithms: { kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"] },
      hostVerifier: (key: Buffer) =>
        `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}` ===
        device.hostKeyFingerprint,
    };
    client.connect(config);
  });
}

function exec(client: Client, command: string): Promise<number> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      stream.on("close", (code: number) => resolve(code));
      stream.resume();
      stream.stderr.resume();
    });
  });
}

export async function rawHeal(device: RawDevice, keys: RawKeys): Promise<void> {
  const f = quote(device.path);
  const rewrite = `t=${f}.new.$$ && { grep -vF ${quote(keys.oldBlob)} ${f} || [ $? -eq 1 ]; printf '%s\\n' ${quote(keys.newLine)}; } > "$t" && chmod 600 "$t" && mv -f "$t" ${f}`;
  const first = await connect(device, keys.oldPrivateKey);
  const code = await exec(first, rewrite);
  first.end();
  if (code !== 0) throw new Error(`rewrite on port ${device.port} exited ${code}`);
  const second = await connect(device, keys.newPrivateKey);
  second.end();
}

/**
 * One session on a connection already open: what the device's sshd spends on a command (the
 * login shell's start included), without the handshake. Milliseconds.
 */
export async function timedSession(device: RawDevice, privateKey: string): Promise<number> {
  const client = await connect(device, privateKey);
  try {
    const started = performance.now();
    const code = await exec(client, "true");
    if (code !== 0) throw new Error(`true on port ${device.port} exited ${code}`);
    return performance.now() - started;
  } finally {
    client.end();
  }
}
