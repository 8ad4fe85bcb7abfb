import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { type FakeApi, keyheal, startFakeApi } from "./fake-api.ts";

let dir: string;
let target: FakeApi;
const key = generateKeyPair({ comment: "operator" });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keyheal-resolve-file-"));
  await writeFile(join(dir, "web-1.pass"), "first secret\n");
  await writeFile(join(dir, "web-2.pass"), "second secret");
  await writeFile(join(dir, "empty.pass"), "\n");
  await writeFile(join(dir, "db-1.key"), key.privateKey);
  await writeFile(join(dir, "db-1.pub"), `${key.authorizedKey}\n`);
  target = await startFakeApi((request) =>
    request.path === "/devices/resolve"
      ? {
          status: 202,
          body: {
            jobId: "job-01J00000000000000000000000",
            runs: (request.body as { devices: Array<{ id: string }> }).devices.map((d, i) => ({
              deviceId: d.id,
              runId: `run-${i}`,
            })),
          },
        }
      : undefined,
  );
});

afterAll(async () => {
  await target?.close();
});

async function resolveWith(yaml: string, args: string[] = [], stdin?: string) {
  const file = join(dir, `devices-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  return keyheal(["resolve", "--devices-file", file, "--data-dir", target.dataDir, ...args], {
    ...(stdin === undefined ? {} : { stdin }),
  });
}

describe("keyheal resolve --devices-file", () => {
  it("sends each device its own admin user and password, read from its own file", async () => {
    const before = target.requests.length;
    const result = await resolveWith(
      [
        "devices:",
        "  - { id: web-1, adminUser: ops, passwordFile: web-1.pass }",
        "  - { id: web-2, adminUser: root, loginUser: ops, passwordFile: web-2.pass }",
      ].join("\n"),
      ["--json"],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(target.requests.slice(before).map((r) => r.body)).toEqual([
      {
        mode: "space-key",
        devices: [
          { id: "web-1", adminUser: "ops", password: "first secret" },
          { id: "web-2", adminUser: "root", loginUser: "ops", password: "second secret" },
        ],
      },
    ]);
    expect(result.stdout).not.toContain("secret");
  });

  it("lets devices without a passwordFile share the one from stdin", async () => {
    const before = target.requests.length;
    const result = await resolveWith(
      "devices:\n  - { id: web-1, adminUser: ops, passwordFile: web-1.pass }\n  - { id: web-3, adminUser: ops }\n",
      ["--password-stdin"],
      "shared secret\n",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(target.requests.slice(before)[0]?.body).toMatchObject({
      password: "shared secret",
      devices: [{ password: "first secret" }, { id: "web-3", adminUser: "ops" }],
    });
  });

  it("sends a private key per device in custom-key mode", async () => {
    const before = target.requests.length;
    const result = await resolveWith(
      "devices:\n  - { id: db-1, adminUser: dba, privateKeyFile: db-1.key }\n",
      ["--adopt"],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(target.requests.slice(before)[0]?.body).toEqual({
      mode: "custom-key",
      adopt: true,
      devices: [{ id: "db-1", adminUser: "dba", privateKey: key.privateKey }],
    });
  });

  it.each([
    [
      "a secret written in the file",
      "devices:\n  - { id: a, adminUser: ops, password: hunter2 }\n",
      "devices[0].password: not a known field",
    ],
    ["no devices list", "hosts: []\n", 'needs a list "devices:"'],
    [
      "a missing admin user",
      "devices:\n  - { id: a, passwordFile: web-1.pass }\n",
      "devices[0].adminUser",
    ],
    [
      "a device named twice",
      "devices:\n  - { id: a, adminUser: u, passwordFile: web-1.pass }\n  - { id: a, adminUser: v, passwordFile: web-2.pass }\n",
      "devices[1].id: a is named twice",
    ],
    [
      "both kinds of credential",
      "devices:\n  - { id: a, adminUser: u, passwordFile: web-1.pass, privateKeyFile: db-1.key }\n",
      "passwordFile or privateKeyFile, not both",
    ],
    [
      "kinds mixed across devices",
      "devices:\n  - { id: a, adminUser: u, passwordFile: web-1.pass }\n  - { id: b, adminUser: u, privateKeyFile: db-1.key }\n",
      "each kind in its own run",
    ],
    [
      "an empty password file",
      "devices:\n  - { id: a, adminUser: u, passwordFile: empty.pass }\n",
      "the password file is empty",
    ],
    [
      "a password file that is not there",
      "devices:\n  - { id: a, adminUser: u, passwordFile: nope.pass }\n",
      "nope.pass: no such file",
    ],
    [
      "a public key given as the private one",
      "devices:\n  - { id: a, adminUser: u, privateKeyFile: db-1.pub }\n",
      "not a private key file",
    ],
    [
      "a passphrase without a key",
      "devices:\n  - { id: a, adminUser: u, passwordFile: web-1.pass, passphraseFile: web-2.pass }\n",
      "passphraseFile: goes with privateKeyFile",
    ],
    [
      "a device without a password and no --password-stdin",
      "devices:\n  - { id: a, adminUser: u, passwordFile: web-1.pass }\n  - { id: b, adminUser: u }\n",
      "b has no passwordFile: add --password-stdin",
    ],
    ["not YAML", "devices: [ { id: a\n", "not valid YAML"],
  ])("refuses %s, naming it, before calling the API", async (_what, yaml, message) => {
    const before = target.requests.length;
    const result = await resolveWith(yaml, ["--space-key"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("hunter2");
    expect(target.requests.length).toBe(before);
  });

  it("refuses a devices file together with DEVICE_IDs or --admin", async () => {
    const file = join(dir, "one.yaml");
    await writeFile(
      file,
      "devices:\n  - { id: web-1, adminUser: ops, passwordFile: web-1.pass }\n",
    );
    const both = await keyheal([
      "resolve",
      "web-9",
      "--devices-file",
      file,
      "--data-dir",
      target.dataDir,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("DEVICE_IDs or --devices-file FILE, not both");
    const admin = await keyheal([
      "resolve",
      "--devices-file",
      file,
      "--admin",
      "ops",
      "--data-dir",
      target.dataDir,
    ]);
    expect(admin.code).toBe(2);
    expect(admin.stderr).toContain("the devices file gives each device its adminUser");
    const none = await keyheal(["resolve", "--space-key", "--data-dir", target.dataDir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("name at least one DEVICE_ID");
  });
});
