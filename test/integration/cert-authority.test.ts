import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Generation, healDevice } from "../../lib/replace/heal-device.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { run } from "../harness/system.ts";

/**
 * A `cert-authority` line for an older keyheal generation lets whoever holds that generation's
 * private key log in with any certificate it signs. Proven with OpenSSH's own client and
 * `ssh-keygen -s`, since the heal must close that door on a real sshd.
 */

const gen1: Generation = { generation: 1, key: generateKeyPair({ comment: "keyheal-gen-1" }) };
const gen2: Generation = { generation: 2, key: generateKeyPair({ comment: "keyheal-gen-2" }) };
const authority = (g: Generation) =>
  `cert-authority ${g.key.authorizedKey.split(" ").slice(0, 2).join(" ")} ca\n`;

let fleet: Fleet;
let device: TestDevice;
let dir: string;
let certKey: string;

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
  dir = await mkdtemp(join(tmpdir(), "keyheal-ca-"));
  // The attacker's side: an unrelated user key and a certificate for it signed by generation 1.
  const signer = join(dir, "gen1");
  await writeFile(signer, gen1.key.privateKey, { mode: 0o600 });
  certKey = join(dir, "user");
  await writeFile(certKey, generateKeyPair({ comment: "holder" }).privateKey, { mode: 0o600 });
  await run("ssh-keygen", ["-y", "-f", certKey]).then(({ stdout }) =>
    writeFile(`${certKey}.pub`, stdout),
  );
  await run("ssh-keygen", [
    "-q",
    "-s",
    signer,
    "-I",
    "old-gen",
    "-n",
    device.user,
    `${certKey}.pub`,
  ]);
  await chmod(certKey, 0o600);
});
afterAll(async () => {
  await fleet?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Logs in with the certificate through OpenSSH's client; true when sshd let it in. */
async function certificateLogsIn(): Promise<boolean> {
  const args = [
    ["-F", "/dev/null", "-i", certKey, "-o", `CertificateFile=${certKey}-cert.pub`],
    ["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"],
    ["-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"],
    ["-p", String(device.port), `${device.user}@${device.host}`, "echo in"],
  ].flat();
  return run("ssh", args).then(
    ({ stdout }) => stdout.trim() === "in",
    () => false,
  );
}

describe("a cert-authority line for an older generation", () => {
  it("issue 10.3: the heal removes it, and a certificate signed by the old key no longer logs in", async () => {
    await device.resetHome(`# by hand\n${authority(gen1)}${gen1.key.authorizedKey}\n`);
    expect(await certificateLogsIn()).toBe(true);

    const result = await healDevice({ device: device.target(), generations: [gen2, gen1] });

    expect(result).toMatchObject({ status: "KEY_BASED", generation: 2, prunedLines: 2 });
    expect((await device.readAuthorizedKeys()).toString()).toBe(
      `# by hand\n${gen2.key.authorizedKey}\n`,
    );
    expect(await certificateLogsIn()).toBe(false);
  });
});
