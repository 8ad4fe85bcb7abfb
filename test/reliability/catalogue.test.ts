/**
 * The bad-input catalogue: keys, authorized_keys files, EventBridge events, API bodies and query
 * strings, CLI arguments and inventory YAML (bombs, 10 MB files, unicode ids), each sent to a
 * real local runtime (a child process) or through the real CLI. Every entry must be answered
 * with a clear error naming what is wrong; at the end nothing registered before is lost, no
 * record is added by a refused input, and the runtime is the same process, still answering.
 * The secret-hygiene scan of docs/… RELIABILITY.md §4 runs over everything it left behind.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeviceView, FailureView, KeyView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { runKeyheal } from "../harness/cli.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { type RuntimeProcess, startRuntimeProcess } from "../harness/local-runtime.ts";
import { deviceOf, endedRunOf, type List, registration } from "../harness/runtime-api.ts";
import { run } from "../harness/system.ts";
import { alive, keyStoreModes, rawApi, rawHttp, runtimeLeftovers, secretHits } from "./harness.ts";

const password = inject("devicePassword");
const PASSPHRASE = `pass-${randomBytes(6).toString("hex")}`;
const gen1 = generateKeyPair({ comment: "catalogue-gen1" });
const gen2 = generateKeyPair({ comment: "catalogue-gen2" });
/** Every secret this file hands keyheal; none may show anywhere but the key store. */
const SECRETS = [password, PASSPHRASE, `wrong-${PASSPHRASE}`];

let fleet: Fleet;
let device: TestDevice;
let work: string;
let dataDir: string;
let runtime: RuntimeProcess;
let encryptedKey: string;
let pidAtStart = 0;
let failuresBefore: FailureView[] = [];

interface Entry {
  area: string;
  name: string;
  check(): Promise<void>;
}
const entries: Entry[] = [];
const entry = (area: string, name: string, check: () => Promise<void>) =>
  entries.push({ area, name, check });

/** A 400 whose `field` names what to fix and whose message says what is wrong. */
async function refused(method: string, path: string, body: unknown, field: string | RegExp) {
  const answer = await runtime.api<{ error: string; field: string; message: string }>(
    method,
    path,
    body,
  );
  expect(answer.status, `${method} ${path}`).toBe(400);
  expect(answer.body.error).toBe("BadRequest");
  expect(answer.body.field).toMatch(field);
  expect(answer.body.message.length).toBeGreaterThan(10);
  return answer.body;
}

function keyheal(args: string[], stdin = "") {
  return runKeyheal(args, { cwd: work, dataDir, stdin });
}

/** The CLI exits 2 with a message naming the problem, on stderr, and prints nothing else. */
async function cliRefuses(args: string[], message: string | RegExp, stdin = "") {
  const result = await keyheal(args, stdin);
  expect(result.code, `keyheal ${args.join(" ")}: ${result.stderr}`).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
}

/** `keyheal devices import` of an inventory file refuses it, naming what is wrong. */
async function inventoryRefused(content: string | Buffer, message: string | RegExp) {
  const file = join(work, `inventory-${randomBytes(4).toString("hex")}.yaml`);
  await writeFile(file, content);
  await cliRefuses(["devices", "import", file], message);
}

const EVENT = () => deviceReconnectedEvent({ deviceId: device.id });

// --- keys ---------------------------------------------------------------------------------
entry("keys", "a DSA key is refused, saying to use ed25519", async () => {
  const dsa = await readFile(new URL("../fixtures/keys/dsa-openssh.key", import.meta.url), "utf8");
  const body = await refused("POST", "/keys/import", { privateKey: dsa }, "privateKey");
  expect(body.message).toMatch(/DSA/);
});
entry("keys", "an RSA key of 1024 bits is refused, naming 2048", async () => {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 1024,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const body = await refused("POST", "/keys/import", { privateKey }, "privateKey");
  expect(body.message).toMatch(/2048/);
});
entry("keys", "an Ed448 key is refused as unsupported", async () => {
  const { privateKey } = generateKeyPairSync("ed448", {
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  await refused("POST", "/keys/import", { privateKey }, "privateKey");
});
entry("keys", "a truncated OpenSSH key is refused", async () => {
  const cut = gen1.privateKey.slice(0, Math.floor(gen1.privateKey.length / 2));
  await refused("POST", "/keys/import", { privateKey: cut }, "privateKey");
});
entry("keys", "a public key given as the private key is refused", async () => {
  await refused("POST", "/keys/import", { privateKey: gen1.authorizedKey }, "privateKey");
});
entry("keys", "an empty private key is refused", async () => {
  await refused("POST", "/keys/import", { privateKey: "" }, "privateKey");
});
entry("keys", "a PuTTY .ppk file is refused", async () => {
  const ppk = `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 1\n${randomBytes(32).toString("base64")}\n`;
  await refused("POST", "/keys/import", { privateKey: ppk }, "privateKey");
});
entry("keys", "an encrypted key without its passphrase asks for the passphrase", async () => {
  await refused("POST", "/keys/import", { privateKey: encryptedKey }, "passphrase");
});
entry("keys", "an encrypted key with a wrong passphrase is refused", async () => {
  await refused(
    "POST",
    "/keys/import",
    { privateKey: encryptedKey, passphrase: `wrong-${PASSPHRASE}` },
    "passphrase",
  );
});
entry("keys", "a private key that is not a string is refused", async () => {
  await refused("POST", "/keys/import", { privateKey: 42 }, "privateKey");
});
entry("keys", "the CLI refuses a key file that does not exist", async () => {
  await cliRefuses(["keys", "import", "--private-key", join(work, "absent.key")], /absent\.key/);
});
entry("keys", "the CLI refuses a wrong passphrase on stdin", async () => {
  const file = join(work, "encrypted.key");
  await writeFile(file, encryptedKey, { mode: 0o600 });
  await cliRefuses(
    ["keys", "import", "--private-key", file, "--passphrase-stdin"],
    /passphrase/i,
    `wrong-${PASSPHRASE}\n`,
  );
});

// --- authorized_keys files (on a real sshd device) -------------------------------------------

/**
 * The device holds generation 1 in `content`; a reconnect runs. Returns the run's status and its
 * failure records.
 */
async function reconnectWith(content: Buffer) {
  await device.resetHome(content);
  const started = await runtime.api<{ runId: string }>("POST", "/events", EVENT());
  expect(started.status).toBe(202);
  const ended = await endedRunOf(runtime, started.body.runId);
  const { body } = await runtime.api<List<FailureView>>(
    "GET",
    `/failures?deviceId=${device.id}&limit=100`,
  );
  // A record names the run by its execution ARN, which ends with the run's name.
  const ofRun = (f: FailureView) => f.runId?.split(":").at(-1) === started.body.runId;
  return { ended, failures: body.items.filter(ofRun) };
}

entry(
  "authorized_keys",
  "an unclosed quote on a line keyheal must remove fails naming the line, and stays",
  async () => {
    const bad = `from="10.0.0.1 ${gen1.authorizedKey}`;
    const { ended, failures } = await reconnectWith(Buffer.from(`${gen1.authorizedKey}\n${bad}\n`));
    expect(ended.status).toBe("FAILED");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ cause: "AUTHORIZED_KEYS_UNPARSEABLE" });
    expect(failures[0]?.message).toMatch(/line 2/);
    expect((await device.readAuthorizedKeys()).toString()).toContain(`${bad}\n`);
  },
);
entry(
  "authorized_keys",
  "NUL bytes, binary junk and ANSI escapes in unmanaged lines are kept byte for byte",
  async () => {
    const junk = Buffer.concat([
      Buffer.from("# \u001b[31mred\u001b[0m comment\n"),
      randomBytes(40).map((b) => (b === 10 ? 32 : b)),
      Buffer.from("\n\0\0 ssh-foo AAAA\n"),
    ]);
    const { ended } = await reconnectWith(
      Buffer.concat([junk, Buffer.from(`${gen1.authorizedKey}\n`)]),
    );
    expect(ended.status).toBe("SUCCEEDED");
    const now = await device.readAuthorizedKeys();
    expect(now.subarray(0, junk.length).equals(junk)).toBe(true);
    expect(now.toString("latin1")).toContain(gen2.authorizedKey.split(" ")[1]);
  },
);
entry("authorized_keys", "CRLF lines and a last line without a newline heal", async () => {
  const { ended } = await reconnectWith(Buffer.from(`# crlf\r\n${gen1.authorizedKey}`));
  expect(ended.status).toBe("SUCCEEDED");
  expect((await device.readAuthorizedKeys()).toString()).toMatch(/^# crlf\r\n/);
});
entry(
  "authorized_keys",
  "a 10 MB authorized_keys fails with OUTPUT_TOO_LARGE and is left as it was",
  async () => {
    const big = Buffer.concat([
      Buffer.from(`${gen1.authorizedKey}\n`),
      Buffer.from(`# ${"x".repeat(1000)}\n`.repeat(10_000)),
    ]);
    const { ended, failures } = await reconnectWith(big);
    expect(ended.status).toBe("FAILED");
    expect(failures.map((f) => f.cause)).toEqual(["OUTPUT_TOO_LARGE"]);
    expect((await device.readAuthorizedKeys()).equals(big)).toBe(true);
  },
);
entry(
  "authorized_keys",
  "a line longer than the line limit holding a managed key fails naming it",
  async () => {
    const long = `command="${"a".repeat(70_000)}" ${gen1.authorizedKey}`;
    const { ended, failures } = await reconnectWith(
      Buffer.from(`${gen1.authorizedKey}\n${long}\n`),
    );
    expect(ended.status).toBe("FAILED");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.cause).toBe("AUTHORIZED_KEYS_UNPARSEABLE");
    expect((await device.readAuthorizedKeys()).toString()).toContain(long);
  },
);

// --- EventBridge events -------------------------------------------------------------------
entry("events", "a device id with a space names detail.deviceId", async () => {
  await refused(
    "POST",
    "/events",
    { ...EVENT(), detail: { deviceId: "has space" } },
    "detail.deviceId",
  );
});
entry("events", "a device id of 129 characters names detail.deviceId", async () => {
  await refused(
    "POST",
    "/events",
    { ...EVENT(), detail: { deviceId: "d".repeat(129) } },
    "detail.deviceId",
  );
});
entry("events", "a unicode device id (Cyrillic homoglyph) names detail.deviceId", async () => {
  await refused(
    "POST",
    "/events",
    { ...EVENT(), detail: { deviceId: "dеv-0" } },
    "detail.deviceId",
  );
});
entry("events", "an unknown detail-type names detail-type", async () => {
  await refused("POST", "/events", { ...EVENT(), "detail-type": "Device Exploded" }, "detail-type");
});
entry("events", "a time that is not ISO 8601 names time", async () => {
  await refused("POST", "/events", { ...EVENT(), time: "yesterday" }, "time");
});
entry("events", "an EC2 event with a bad instance id names detail.instance-id", async () => {
  await refused(
    "POST",
    "/events",
    {
      ...EVENT(),
      "detail-type": "EC2 Instance State-change Notification",
      source: "aws.ec2",
      detail: { "instance-id": "i-XYZ", state: "running" },
    },
    "detail.instance-id",
  );
});
entry("events", "an EC2 event with an unknown state names detail.state", async () => {
  await refused(
    "POST",
    "/events",
    {
      ...EVENT(),
      "detail-type": "EC2 Instance State-change Notification",
      source: "aws.ec2",
      detail: { "instance-id": "i-0123456789abcdef0", state: "exploded" },
    },
    "detail.state",
  );
});
entry("events", "detail given as a string names detail", async () => {
  await refused("POST", "/events", { ...EVENT(), detail: "dev-0" }, "detail");
});
entry("events", "an array instead of an event is refused", async () => {
  await refused("POST", "/events", [EVENT()], /.+/);
});
entry("events", "300 resources name resources", async () => {
  await refused("POST", "/events", { ...EVENT(), resources: Array(300).fill("r") }, "resources");
});
entry("events", "a source of the wrong kind for the detail-type names source", async () => {
  await refused("POST", "/events", { ...EVENT(), source: "aws.ec2" }, /source|detail-type/);
});

// --- API bodies and query strings ---------------------------------------------------------
entry("api", "JSON cut off mid-body is a 400 naming the body", async () => {
  const answer = await rawApi(runtime, "POST", "/devices", '{"devices": [');
  expect(answer.status).toBe(400);
  expect(answer.json).toMatchObject({ error: "BadRequest" });
});
entry("api", "a body that is not JSON at all is a 400", async () => {
  const answer = await rawApi(runtime, "POST", "/events", "hello", "text/plain");
  expect(answer.status).toBe(400);
  expect(answer.json?.message).toEqual(expect.any(String));
});
entry("api", "a 2 MB body is refused with 413 before it is parsed", async () => {
  const answer = await rawApi(
    runtime,
    "POST",
    "/keys/import",
    JSON.stringify({ privateKey: "A".repeat(2_000_000) }),
  );
  expect(answer.status).toBe(413);
  expect(answer.json).toMatchObject({ error: "PayloadTooLarge" });
});
entry("api", "invalid UTF-8 in a body is a 400", async () => {
  const answer = await rawApi(runtime, "POST", "/devices", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
  expect(answer.status).toBe(400);
});
entry("api", "a port of 70000 names devices[0].port", async () => {
  await refused(
    "POST",
    "/devices",
    { devices: [{ ...registration(device), port: 70_000 }] },
    "devices[0].port",
  );
});
entry("api", "a misspelt field names it", async () => {
  await refused(
    "POST",
    "/devices",
    { id: "x", host: "h", adminUser: "root", adminuser: "r" },
    "adminuser",
  );
});
entry("api", "a host given as a URL names host", async () => {
  await refused("POST", "/devices", { id: "x", host: "ssh://h:22", adminUser: "root" }, "host");
});
entry("api", "an admin user with a space names adminUser", async () => {
  await refused("POST", "/devices", { id: "x", host: "h", adminUser: "Root Admin" }, "adminUser");
});
entry("api", "an MD5 host-key fingerprint names hostKeyFingerprint", async () => {
  await refused(
    "POST",
    "/devices",
    { id: "x", host: "h", adminUser: "root", hostKeyFingerprint: "MD5:aa:bb" },
    "hostKeyFingerprint",
  );
});
entry("api", "a multi-line authorizedKeysPath names it", async () => {
  await refused(
    "POST",
    "/devices",
    { id: "x", host: "h", adminUser: "root", authorizedKeysPath: ".ssh/a\nb" },
    "authorizedKeysPath",
  );
});
entry("api", "the same id twice in one request is refused", async () => {
  const one = { id: "twin", host: "h", adminUser: "root" };
  await refused("POST", "/devices", { devices: [one, one] }, /devices/);
});
entry("api", "1,001 devices in one request are refused", async () => {
  const devices = Array.from({ length: 1001 }, (_, i) => ({
    id: `bulk-${i}`,
    host: "h",
    adminUser: "root",
  }));
  await refused("POST", "/devices", { devices }, "devices");
});
entry(
  "api",
  "unicode device ids (accent, right-to-left override, zero-width, emoji) are refused",
  async () => {
    for (const id of ["dév-1", "dev-\u202e1", "dev\u200b1", "dev-🔑"]) {
      await refused("POST", "/devices", { id, host: "h", adminUser: "root" }, "id");
    }
  },
);
entry("api", "an unknown status names status", async () => {
  await refused("GET", "/devices?status=HEALTHY", undefined, "status");
});
entry("api", "a limit that is not a number names limit", async () => {
  await refused("GET", "/devices?limit=abc", undefined, "limit");
});
entry("api", "a forged cursor names cursor", async () => {
  await refused("GET", "/devices?cursor=bm90LWEtY3Vyc29y", undefined, "cursor");
});
entry("api", "an unknown query parameter names it", async () => {
  await refused("GET", "/failures?colour=red", undefined, "colour");
});
entry("api", "a since of 'yesterday' names since", async () => {
  await refused("GET", "/failures?since=yesterday", undefined, "since");
});
entry("api", "an unknown cause names cause", async () => {
  await refused("GET", "/failures?cause=NOT_A_CAUSE", undefined, "cause");
});
entry("api", "an unknown operation names operation", async () => {
  await refused("GET", "/failures?operation=DANCE", undefined, "operation");
});
entry("api", "a delete limit of 0 names limit", async () => {
  await refused("DELETE", "/failures?limit=0", undefined, "limit");
});
entry("api", "a resolve in an unknown mode names mode", async () => {
  await refused("POST", "/devices/resolve", { mode: "telepathy" }, "mode");
});
entry("api", "a space-key resolve without a password names it", async () => {
  await refused(
    "POST",
    "/devices/resolve",
    { mode: "space-key", devices: [{ id: device.id, adminUser: device.user }] },
    /password/,
  );
});
entry(
  "api",
  "a custom-key resolve with a broken key names privateKey, never echoing it",
  async () => {
    const secret = `not-a-key-${PASSPHRASE}`;
    const body = await refused(
      "POST",
      "/devices/resolve",
      {
        mode: "custom-key",
        devices: [{ id: device.id, adminUser: device.user }],
        privateKey: secret,
      },
      /privateKey/,
    );
    expect(JSON.stringify(body)).not.toContain(secret);
  },
);
entry("api", "a rotation to DSA names type", async () => {
  await refused("POST", "/keys/rotate", { type: "dsa" }, "type");
});
entry("api", "a percent-encoding that does not decode is a 400 or 404, not a crash", async () => {
  const answer = await runtime.api("GET", "/failures/%E0%A4%A");
  expect([400, 404]).toContain(answer.status);
});

// --- CLI arguments ------------------------------------------------------------------------
entry("cli", "an unknown command suggests the nearest", async () => {
  await cliRefuses(["devcies", "list"], /devices/);
});
entry("cli", "an unknown option is named", async () => {
  await cliRefuses(["devices", "list", "--colour", "red"], /--colour/);
});
entry("cli", "an option without its value is named", async () => {
  await cliRefuses(["failures", "list", "--since"], /--since/);
});
entry(
  "cli",
  "a password on the command line is refused, pointing at --password-stdin",
  async () => {
    await cliRefuses(
      ["resolve", device.id, "--space-key", "--admin", device.user, `--password=${password}`],
      /stdin/,
    );
  },
);
entry("cli", "an unknown status is named with the choices", async () => {
  await cliRefuses(["devices", "list", "--status", "BROKEN"], /--status must be one of/);
});
entry("cli", "a since that is not a duration is named", async () => {
  await cliRefuses(["failures", "list", "--since", "yesterday"], /--since must be a duration/);
});
entry("cli", "a limit that is not a number is named", async () => {
  await cliRefuses(["failures", "delete", "--all", "--yes", "--limit", "lots"], /--limit/);
});
entry("cli", "resolve without a mode says which modes exist", async () => {
  await cliRefuses(["resolve", device.id, "--admin", device.user], /--space-key|--custom-key/);
});
entry("cli", "delete --all off a terminal without --yes is refused", async () => {
  await cliRefuses(["failures", "delete", "--all"], /--yes/);
});
entry("cli", "a devices file that does not exist is named", async () => {
  await cliRefuses(
    ["resolve", "--devices-file", join(work, "nope.yaml"), "--space-key"],
    /nope\.yaml/,
  );
});
entry("cli", "a unicode device id is refused naming the rule", async () => {
  await cliRefuses(["events", "reconnect", "dév-1"], /dév-1|letters, digits/);
});
entry("cli", "an empty password on stdin is refused", async () => {
  await cliRefuses(
    ["resolve", device.id, "--space-key", "--admin", device.user, "--password-stdin"],
    /password/i,
    "",
  );
});

// --- inventory YAML -------------------------------------------------------------------------
entry("inventory", "a YAML bomb (aliases of aliases) is refused, not expanded", async () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
    ...Array.from({ length: 9 }, (_, i) => {
      const p = String.fromCharCode(97 + i);
      const n = String.fromCharCode(98 + i);
      return `${n}: &${n} [*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p}]`;
    }),
    "devices: *j",
    "",
  ].join("\n");
  await inventoryRefused(bomb, /alias/i);
});
entry("inventory", "a 10 MB inventory is refused with its size", async () => {
  await inventoryRefused(`devices:\n${"# padding\n".repeat(1_050_000)}`, /bytes, over the/);
});
entry("inventory", "unicode device ids are named by their index", async () => {
  await inventoryRefused(
    'devices:\n  - { id: dév-1, host: h, adminUser: ops }\n  - { id: "dev-\\u202e1", host: h, adminUser: ops }\n',
    /devices\[0\]\.id[\s\S]*devices\[1\]\.id/,
  );
});
entry("inventory", "a tab used for indentation names the line", async () => {
  await inventoryRefused("devices:\n\t- id: x\n", /line 2/);
});
entry("inventory", "a duplicate key names the line", async () => {
  await inventoryRefused(
    "devices:\n  - id: x\n    id: y\n    host: h\n    adminUser: ops\n",
    /line 3/,
  );
});
entry("inventory", "the same device id twice is named", async () => {
  await inventoryRefused(
    "devices:\n  - { id: x, host: h, adminUser: ops }\n  - { id: x, host: h, adminUser: ops }\n",
    /x/,
  );
});
entry("inventory", "devices that are not a list are named", async () => {
  await inventoryRefused("devices: dev-1\n", /devices/);
});
entry("inventory", "a missing devices key is named", async () => {
  await inventoryRefused("hosts:\n  - dev-1\n", /devices|hosts/);
});
entry("inventory", "binary bytes are refused", async () => {
  await inventoryRefused(randomBytes(4096), /inventory|line|devices/i);
});
entry("inventory", "an empty file says it holds no devices", async () => {
  await inventoryRefused("", /devices/);
});
entry("inventory", "a port of 70000 names devices[0].port", async () => {
  await inventoryRefused(
    "devices:\n  - { id: x, host: h, port: 70000, adminUser: ops }\n",
    /devices\[0\]\.port/,
  );
});
entry("inventory", "a merge key bringing an unknown field is named", async () => {
  await inventoryRefused(
    "base: &b { host: h, adminUser: ops, colour: red }\ndevices:\n  - { <<: *b, id: x }\n",
    /colour|base/,
  );
});
entry(
  "inventory",
  "a runtime started on a bad inventory exits 2 naming it, leaving no lock",
  async () => {
    const file = join(work, "start-bad.yaml");
    await writeFile(file, "devices:\n  - { id: dév, host: h, adminUser: ops }\n");
    const { runRuntimeProcess } = await import("../harness/local-runtime.ts");
    const other = await mkdtemp(join(tmpdir(), "keyheal-cat-start-"));
    try {
      const exit = await runRuntimeProcess({ dataDir: other, inventory: file });
      expect(exit.code).toBe(2);
      expect(exit.stderr + exit.stdout).toMatch(/devices\[0\]\.id/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  },
);

// --- raw HTTP (request lines and headers a client library never sends) ------------------------
entry("http", "GET //[ is a 400 and the runtime keeps serving (issue 10.9)", async () => {
  // Addressed as a browser would address the runtime (its loopback host and port).
  const host = new URL(runtime.url).host;
  expect(await rawHttp(runtime, `GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toMatch(
    /^HTTP\/1\.1 400/,
  );
  expect(alive(runtime.pid)).toBe(true);
});
entry("http", "a header line without a colon is a 400", async () => {
  expect(await rawHttp(runtime, "GET /devices HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n")).toMatch(
    /^HTTP\/1\.1 400/,
  );
});
entry("http", "a Host that is not loopback is refused (DNS rebinding, issue 10.9)", async () => {
  const answer = await rawHttp(
    runtime,
    `GET /devices HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${runtime.token}\r\n\r\n`,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 (400|403|421)/);
});
entry("http", "a cross-origin browser request is refused (issue 10.9)", async () => {
  const answer = await rawHttp(
    runtime,
    `GET /devices HTTP/1.1\r\nHost: ${new URL(runtime.url).host}\r\nOrigin: http://evil.example\r\nAuthorization: Bearer ${runtime.token}\r\n\r\n`,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 (400|403)/);
});

beforeAll(async () => {
  fleet = await startFleet(1);
  device = fleet.devices[0] as TestDevice;
  work = await mkdtemp(join(tmpdir(), "keyheal-catalogue-"));
  dataDir = join(work, "data");
  await writeFile(join(work, "plain.key"), gen1.privateKey, { mode: 0o600 });
  await run("ssh-keygen", ["-q", "-p", "-N", PASSPHRASE, "-P", "", "-f", join(work, "plain.key")]);
  encryptedKey = await readFile(join(work, "plain.key"), "utf8");
  await rm(join(work, "plain.key"));
  runtime = await startRuntimeProcess({ dataDir });
  pidAtStart = runtime.pid;
  // What must survive the catalogue: two generations, a healed device, its record.
  for (const key of [gen1, gen2]) {
    expect((await runtime.api("POST", "/keys/import", { privateKey: key.privateKey })).status).toBe(
      201,
    );
  }
  expect((await runtime.api("POST", "/devices", registration(device))).status).toBe(200);
  failuresBefore = (await runtime.api<List<FailureView>>("GET", "/failures?limit=1000")).body.items;
});

afterAll(async () => {
  const exit = await runtime?.stop();
  await fleet?.stop();
  if (!dataDir) return;
  const hits = secretHits(
    await runtimeLeftovers(dataDir, exit?.stdout + (exit?.stderr ?? "")),
    SECRETS,
  );
  console.log(`secret hygiene (catalogue): ${hits.length} hits`, hits);
  const modes = await keyStoreModes(dataDir);
  await rm(work, { recursive: true, force: true });
  expect(hits).toEqual([]);
  expect(modes.every((mode) => mode === 0o600)).toBe(true);
});

describe.sequential(`the bad-input catalogue (${entries.length} entries)`, () => {
  it("holds at least 60 entries", () => {
    const byArea = new Map<string, number>();
    for (const e of entries) byArea.set(e.area, (byArea.get(e.area) ?? 0) + 1);
    console.log(
      `bad-input catalogue: ${entries.length} entries (${[...byArea].map(([a, n]) => `${a} ${n}`).join(", ")})`,
    );
    expect(entries.length).toBeGreaterThanOrEqual(60);
  });

  const check = (e: Entry) => async () => {
    await e.check();
    expect(alive(runtime.pid), "the runtime process is alive").toBe(true);
  };
  const inArea = (...areas: string[]) => entries.filter((e) => areas.includes(e.area));
  for (const e of inArea("keys", "authorized_keys", "events", "api")) {
    it(`${e.area}: ${e.name}`, check(e));
  }
  // Each CLI entry is a process of its own: they run side by side against the one runtime.
  describe.concurrent("CLI arguments and inventory files", () => {
    for (const e of inArea("cli", "inventory")) it(`${e.area}: ${e.name}`, check(e));
  });
  // Last: today some of these stop the runtime (issue 10.9).
  for (const e of inArea("http")) it(`${e.area}: ${e.name}`, check(e));

  it("after the catalogue the same runtime answers and nothing was lost", async () => {
    expect(runtime.pid).toBe(pidAtStart);
    expect(alive(runtime.pid)).toBe(true);
    const keys = (await runtime.api<List<KeyView>>("GET", "/keys")).body.items;
    expect(keys.map((k) => [k.generation, k.fingerprint])).toEqual([
      [2, gen2.fingerprint],
      [1, gen1.fingerprint],
    ]);
    const kept: DeviceView | undefined = await deviceOf(runtime, device.id);
    expect(kept).toMatchObject({ id: device.id, port: device.port, host: device.host });
    const listed = (await runtime.api<List<DeviceView>>("GET", "/devices?limit=1000")).body.items;
    // Refused inputs registered nothing.
    expect(listed.map((d) => d.id)).toEqual([device.id]);
    const failures = (await runtime.api<List<FailureView>>("GET", "/failures?limit=1000")).body
      .items;
    // Only the authorized_keys entries that must fail added records, one each.
    expect(failures.length - failuresBefore.length).toBeLessThanOrEqual(3);
  });
});
