/**
 * The keyheal CLI as a client: `bin/keyheal` runs as a child process against an in-test HTTP
 * server on 127.0.0.1 that records what it was sent. No runtime, no SSH: what is under test is
 * the command line, the requests it makes, what it prints, and its exit codes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { DeviceView } from "../../../lib/contract/api.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import {
  deviceAnswer,
  type FakeApi,
  failureAnswer,
  type Handler,
  keyheal,
  type RecordedRequest,
  runRecord,
  startFakeApi,
} from "./fake-api.ts";

// Each test starts Node processes; a loaded CI machine needs more than the default 5 s.
vi.setConfig({ testTimeout: 30_000 });

// Tests run concurrently within each describe (each spawns processes); every one has its own server.
const apis: FakeApi[] = [];
afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
});

async function api(handler: Handler = () => undefined): Promise<FakeApi> {
  const started = await startFakeApi(handler);
  apis.push(started);
  return started;
}

/** `keyheal args…` against `target`'s data directory. */
function run(target: FakeApi, args: string[], options: { stdin?: string } = {}) {
  return keyheal([...args, "--data-dir", target.dataDir], options);
}

const DEVICE = deviceAnswer();

const FAILURE = failureAnswer();

const only = (requests: RecordedRequest[]) => {
  expect(requests).toHaveLength(1);
  return requests[0] as RecordedRequest;
};

describe("help and usage", () => {
  it("answers --help listing every command", async () => {
    const result = await keyheal(["--help"]);
    expect(result.code).toBe(0);
    for (const command of [
      "local start",
      "devices import",
      "devices list",
      "keys import",
      "keys rotate",
      "keys list",
      "events reconnect",
      "resolve",
      "failures list",
      "failures show",
      "failures delete",
      "failures retry",
      "failures stats",
      "runs show",
      "jobs show",
    ]) {
      expect(result.stdout).toContain(`  ${command} `);
    }
  });

  it("has --help for every command, exit 0", async () => {
    const commands = [
      ["devices", "import"],
      ["devices", "list"],
      ["keys", "import"],
      ["keys", "rotate"],
      ["keys", "list"],
      ["events", "reconnect"],
      ["resolve"],
      ["failures", "list"],
      ["failures", "show"],
      ["failures", "delete"],
      ["failures", "retry"],
      ["failures", "stats"],
      ["runs", "show"],
      ["jobs", "show"],
      ["local", "start"],
    ];
    const results = await Promise.all(commands.map((words) => keyheal([...words, "--help"])));
    results.forEach((result, index) => {
      expect(result.code, commands[index]?.join(" ")).toBe(0);
      expect(result.stdout).toMatch(/Usage: keyheal /);
    });
  });

  it("exits 2 with the usage line for an unknown flag, suggesting the near one", async () => {
    const target = await api();
    const result = await run(target, ["failures", "list", "--casue", "AUTH_REJECTED"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option --casue (did you mean --cause?)");
    expect(result.stderr).toContain("Usage: keyheal failures list");
    expect(target.requests).toEqual([]);
  });

  it("exits 2 for no command, an unknown command and a missing argument", async () => {
    expect((await keyheal([])).code).toBe(2);
    const unknown = await keyheal(["devcies", "list"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean devices?");
    const missing = await keyheal(["runs", "show"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("RUN_ID is missing");
  });
});

describe.concurrent("secrets never come from argv", () => {
  it.each([
    [["resolve", "dev-1", "--space-key", "--admin", "ops", "--password", "hunter2"], "--password"],
    [["resolve", "dev-1", "--space-key", "--admin", "ops", "--password=hunter2"], "--password"],
    [["keys", "import", "--private-key", "k", "--passphrase", "pw"], "--passphrase"],
    [["devices", "list", "--token", "t"], "--token"],
  ])("refuses %j before sending anything", async (args, flag) => {
    const target = await api();
    const result = await run(target, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${flag} is refused`);
    expect(result.stderr).toContain("never takes a secret on the command line");
    expect(result.stderr).not.toContain("hunter2");
    expect(target.requests).toEqual([]);
  });
});

describe.concurrent("discovery", () => {
  it("sends the data directory's token as a bearer token", async () => {
    const target = await api(() => ({ body: { items: [], nextCursor: null } }));
    const result = await run(target, ["keys", "list"]);
    expect(result.code).toBe(0);
    expect(only(target.requests).authorization).toBe("Bearer test-token");
  });

  it("uses KEYHEAL_API and KEYHEAL_TOKEN, but --data-dir wins over them", async () => {
    const fromEnv = await startFakeApi(
      () => ({ body: { items: [], nextCursor: null } }),
      "env-token",
    );
    apis.push(fromEnv);
    const fromDir = await api(() => ({ body: { items: [], nextCursor: null } }));
    const env = { KEYHEAL_API: fromEnv.url, KEYHEAL_TOKEN: "env-token" };
    expect((await keyheal(["keys", "list"], { env })).code).toBe(0);
    expect(only(fromEnv.requests).authorization).toBe("Bearer env-token");
    expect((await keyheal(["keys", "list", "--data-dir", fromDir.dataDir], { env })).code).toBe(0);
    expect(only(fromDir.requests).authorization).toBe("Bearer test-token");
    expect(fromEnv.requests).toHaveLength(1);
  });

  it("reads KEYHEAL_DATA_DIR when neither --data-dir nor KEYHEAL_API is given", async () => {
    const target = await api(() => ({ body: { items: [], nextCursor: null } }));
    const result = await keyheal(["devices", "list"], {
      env: { KEYHEAL_DATA_DIR: target.dataDir },
    });
    expect(result.code).toBe(0);
    expect(target.requests).toHaveLength(1);
  });

  it("exits 2 telling to run keyheal local start when no runtime wrote its files", async () => {
    const result = await keyheal(["devices", "list"], {
      env: { KEYHEAL_DATA_DIR: "/nonexistent" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("/nonexistent/api-url does not exist");
    expect(result.stderr).toContain("keyheal local start --data-dir /nonexistent");
  });

  it("exits 2 telling to start the runtime when nothing listens at its URL", async () => {
    const target = await api();
    const url = target.url;
    await target.close();
    const again = await api();
    await writeFile(join(again.dataDir, "api-url"), url);
    const result = await run(again, ["devices", "list"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot reach the keyheal API at ${url} (ECONNREFUSED)`);
    expect(result.stderr).toContain("keyheal local start");
  });
});

describe.concurrent("devices", () => {
  it("imports a YAML inventory with POST /devices, port 22 by default", async () => {
    const target = await api((request) =>
      request.method === "POST" && request.path === "/devices"
        ? { body: { items: [DEVICE, { ...DEVICE, id: "dev-2", status: "UNKNOWN" }] } }
        : undefined,
    );
    const file = join(target.dataDir, "fleet.yaml");
    await writeFile(
      file,
      "devices:\n  - { id: dev-1, host: 10.0.0.5, adminUser: ops }\n  - { id: dev-2, host: 10.0.0.6, port: 2222, adminUser: ops, region: eu-west-1 }\n",
    );
    const result = await run(target, ["devices", "import", file]);
    expect(result.code).toBe(0);
    expect(only(target.requests).body).toEqual({
      devices: [
        { id: "dev-1", host: "10.0.0.5", port: 22, adminUser: "ops" },
        { id: "dev-2", host: "10.0.0.6", port: 2222, adminUser: "ops", region: "eu-west-1" },
      ],
    });
    expect(result.stdout).toContain("Imported 2 devices");
  });

  it("exits 2 naming the bad field of an inventory, sending nothing", async () => {
    const target = await api();
    const file = join(target.dataDir, "fleet.yaml");
    await writeFile(
      file,
      "devices:\n  - { id: dev-1, host: h, adminUser: ops }\n  - { id: dev-2, host: h, port: 70000, adminUser: ops }\n",
    );
    const result = await run(target, ["devices", "import", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("devices[1].port");
    expect(target.requests).toEqual([]);
  });

  it("exits 2 for a missing inventory file and for YAML that does not parse", async () => {
    const target = await api();
    const missing = await run(target, ["devices", "import", "/nonexistent/fleet.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read /nonexistent/fleet.yaml: no such file");
    const file = join(target.dataDir, "broken.yaml");
    await writeFile(file, "devices: [\n");
    const broken = await run(target, ["devices", "import", file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/line \d+/);
    expect(target.requests).toEqual([]);
  });

  it("follows nextCursor to the last page, and --json prints { items, nextCursor }", async () => {
    const target = await api((request) =>
      request.query.cursor === undefined
        ? { body: { items: [DEVICE], nextCursor: "page-2" } }
        : { body: { items: [{ ...DEVICE, id: "dev-2" }], nextCursor: null } },
    );
    const result = await run(target, ["devices", "list", "--status", "key_conflict", "--json"]);
    expect(result.code).toBe(0);
    expect(target.requests.map((request) => request.query)).toEqual([
      { status: "KEY_CONFLICT", limit: "100" },
      { status: "KEY_CONFLICT", limit: "100", cursor: "page-2" },
    ]);
    const printed = JSON.parse(result.stdout);
    expect(printed.nextCursor).toBeNull();
    expect(printed.items.map((device: { id: string }) => device.id)).toEqual(["dev-1", "dev-2"]);
    expect(Object.keys(printed.items[0])).toEqual(Object.keys(DeviceView.shape));
  });

  it("exits 3 naming the field when an answer is not the contract: one missing, one unknown", async () => {
    const { lastFailureCause: _, ...partial } = DEVICE;
    const missing = await api(() => ({ body: { items: [partial], nextCursor: null } }));
    const left = await run(missing, ["devices", "list", "--json"]);
    expect(left.code).toBe(3);
    expect(left.stderr).toContain("GET /devices: unexpected answer: not the contract:");
    expect(left.stderr).toContain("items[0].lastFailureCause");
    expect(left.stdout).toBe("");
    const extra = await api(() => ({
      body: { items: [{ ...DEVICE, colour: "blue" }], nextCursor: null },
    }));
    const added = await run(extra, ["devices", "list"]);
    expect(added.code).toBe(3);
    expect(added.stderr).toContain("items[0].colour: is not a known field");
  });

  it("prints a plain aligned table", async () => {
    const target = await api(() => ({ body: { items: [DEVICE], nextCursor: null } }));
    const result = await run(target, ["devices", "list"]);
    expect(result.stdout.split("\n").slice(0, 2)).toEqual([
      "ID     HOST      PORT  ADMIN  STATUS        GEN  LAST FAILURE  HOST KEY",
      "dev-1  10.0.0.5  22    ops    KEY_CONFLICT  1    -             SHA256:aQy/lYCTH0USt3SH4PlGB9aQPQcbtbfJRbgtguJ7qe8",
    ]);
  });

  it("refuses an unknown --status before calling the API", async () => {
    const target = await api();
    const result = await run(target, ["devices", "list", "--status", "BROKEN"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--status must be one of UNKNOWN, KEY_BASED");
    expect(target.requests).toEqual([]);
  });
});

describe.concurrent("keys", () => {
  it("imports a private key file with the passphrase from stdin", async () => {
    const target = await api(() => ({
      status: 201,
      body: {
        generation: 2,
        algorithm: "ssh-ed25519",
        fingerprint: "SHA256:x",
        status: "CURRENT",
        createdAt: "2025-06-01T12:00:00.000Z",
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3y keyheal",
      },
    }));
    const key = generateKeyPair();
    const file = join(target.dataDir, "fleet-key");
    await writeFile(file, key.privateKey, { mode: 0o600 });
    const result = await run(
      target,
      ["keys", "import", "--private-key", file, "--passphrase-stdin"],
      {
        stdin: "correct horse\n",
      },
    );
    expect(result.code).toBe(0);
    const request = only(target.requests);
    expect([request.method, request.path]).toEqual(["POST", "/keys/import"]);
    expect(request.body).toEqual({ privateKey: key.privateKey, passphrase: "correct horse" });
    expect(result.stdout).toContain("Imported as generation 2.");
  });

  it("refuses a public key given as --private-key, and an empty stdin passphrase", async () => {
    const target = await api();
    const key = generateKeyPair();
    const pub = join(target.dataDir, "fleet-key.pub");
    await writeFile(pub, `${key.authorizedKey}\n`);
    const wrong = await run(target, ["keys", "import", "--private-key", pub]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("not a private key file");
    const file = join(target.dataDir, "fleet-key");
    await writeFile(file, key.privateKey);
    const empty = await run(target, [
      "keys",
      "import",
      "--private-key",
      file,
      "--passphrase-stdin",
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no passphrase on stdin");
    expect(target.requests).toEqual([]);
  });

  it("rotates with the chosen type and prints { runId } with --json", async () => {
    const target = await api(() => ({ status: 202, body: { runId: "rotate-1" } }));
    const result = await run(target, ["keys", "rotate", "--type", "RSA", "--json"]);
    expect(result.code).toBe(0);
    expect(only(target.requests).body).toEqual({ type: "rsa" });
    expect(JSON.parse(result.stdout)).toEqual({ runId: "rotate-1" });
  });

  it("refuses a DSA rotation locally", async () => {
    const target = await api();
    const result = await run(target, ["keys", "rotate", "--type", "dsa"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--type must be one of ed25519, rsa, ecdsa");
  });
});

describe.concurrent("--wait", () => {
  /** Starts run `runId`, which reads RUNNING once, then `final`. */
  function waitingApi(final: string, runId = "rotate-1"): Handler {
    let polls = 0;
    return (request) => {
      if (request.path === "/events") {
        const body = { outcome: "started", runId, eventId: "e-1", deviceId: "dev-1" };
        return { status: 202, body };
      }
      if (request.method === "POST") return { status: 202, body: { runId } };
      if (request.path === `/runs/${runId}`) {
        polls += 1;
        return { body: runRecord(runId, polls === 1 ? "RUNNING" : final, null) };
      }
      return undefined;
    };
  }

  it("polls the run until it ends and exits 0 when it SUCCEEDED, quietly when not a TTY", async () => {
    const target = await api(waitingApi("SUCCEEDED"));
    const result = await run(target, ["keys", "rotate", "--wait"]);
    expect(result.code).toBe(0);
    expect(target.requests.filter((request) => request.path === "/runs/rotate-1")).toHaveLength(2);
    expect(result.stdout).toMatch(/rotate-1\s+reconnect\s+-\s+SUCCEEDED\s+4\.2s\s+Detect/);
    expect(result.stderr).toBe("");
  });

  it("exits 1 when the run FAILED, naming its cause", async () => {
    const target = await api(waitingApi("FAILED", "dev-1-run"));
    const result = await run(target, ["events", "reconnect", "dev-1", "--wait"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("AUTH_REJECTED: no key accepted");
    expect(result.stderr).toContain("keyheal runs show dev-1-run");
  });

  it("waits for every run of a resolve and prints { items } with --json", async () => {
    const target = await api((request) => {
      if (request.path === "/devices/resolve") {
        return {
          status: 202,
          body: {
            jobId: "job-1",
            runs: [
              { deviceId: "dev-1", runId: "r-1" },
              { deviceId: "dev-2", runId: "r-2" },
            ],
          },
        };
      }
      if (request.path === "/jobs/job-1") return { body: JOB };
      if (request.path === "/runs/r-1") return { body: runRecord("r-1", "SUCCEEDED") };
      if (request.path === "/runs/r-2") return { body: runRecord("r-2", "FAILED", "dev-2") };
      return undefined;
    });
    const result = await run(
      target,
      ["resolve", "dev-1", "dev-2", "--space-key", "--admin", "ops", "--password-stdin"],
      { stdin: "s3cret\n" },
    );
    expect(result.code).toBe(0);
    const waited = await run(
      target,
      ["resolve", "dev-1", "dev-2", "--space-key", "--admin", "ops", "--password-stdin"].concat(
        "--wait",
        "--json",
      ),
      { stdin: "s3cret\n" },
    );
    expect(waited.code).toBe(1);
    const printed = JSON.parse(waited.stdout);
    expect(printed.items.map((each: { status: string }) => each.status)).toEqual([
      "SUCCEEDED",
      "FAILED",
    ]);
  });
});

describe.concurrent("events and resolve", () => {
  it("sends a Device Reconnected event for the device", async () => {
    const target = await api(() => ({
      status: 202,
      body: { outcome: "started", runId: "dev-1-run", eventId: "e", deviceId: "dev-1" },
    }));
    const result = await run(target, ["events", "reconnect", "dev-1", "--json"]);
    expect(result.code).toBe(0);
    const request = only(target.requests);
    expect(request.path).toBe("/events");
    expect(request.body).toMatchObject({
      "detail-type": "Device Reconnected",
      source: "keyheal",
      detail: { deviceId: "dev-1" },
    });
    expect(JSON.parse(result.stdout)).toMatchObject({ runId: "dev-1-run" });
  });

  it("exits 2 when the event starts nothing (an unknown device)", async () => {
    const target = await api(() => ({
      status: 202,
      body: {
        outcome: "ignored",
        runId: null,
        eventId: "e",
        reason: "UNKNOWN_DEVICE",
        message: "device nope is not a registered device",
      },
    }));
    const result = await run(target, ["events", "reconnect", "nope"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("device nope is not a registered device");
  });

  it("resolves with the Space key: the password from stdin, one admin user per device", async () => {
    const target = await api(() => ({
      status: 202,
      body: {
        jobId: "job-1",
        runs: [
          { deviceId: "dev-1", runId: "r-1" },
          { deviceId: "dev-2", runId: "r-2" },
        ],
      },
    }));
    const result = await run(
      target,
      ["resolve", "dev-1", "root@dev-2", "--space-key", "--admin", "ops", "--password-stdin"],
      { stdin: "pa ss\n" },
    );
    expect(result.code).toBe(0);
    expect(only(target.requests).body).toEqual({
      mode: "space-key",
      devices: [
        { id: "dev-1", adminUser: "ops" },
        { id: "dev-2", adminUser: "root" },
      ],
      password: "pa ss",
    });
    expect(result.stdout).toContain("Resolve started for 2 devices.");
  });

  it("resolves with a custom key file, adopting it", async () => {
    const target = await api(() => ({
      status: 202,
      body: { jobId: "job-1", runs: [{ deviceId: "dev-1", runId: "r-1" }] },
    }));
    const key = generateKeyPair({ type: "ecdsa" });
    const file = join(target.dataDir, "ops-key");
    await writeFile(file, key.privateKey);
    const result = await run(target, [
      "resolve",
      "dev-1",
      "--custom-key",
      file,
      "--admin",
      "ops",
      "--adopt",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(only(target.requests).body).toEqual({
      mode: "custom-key",
      devices: [{ id: "dev-1", adminUser: "ops" }],
      privateKey: key.privateKey,
      adopt: true,
    });
    expect(JSON.parse(result.stdout)).toEqual({
      jobId: "job-1",
      runs: [{ deviceId: "dev-1", runId: "r-1" }],
    });
  });

  it.each([
    [["resolve", "dev-1", "--admin", "ops"], "give one of --space-key or --custom-key"],
    [["resolve", "dev-1", "--space-key", "--admin", "ops"], "add --password-stdin"],
    [["resolve", "dev-1", "--space-key", "--password-stdin"], "--admin USER is required"],
    [
      ["resolve", "--space-key", "--admin", "ops", "--password-stdin"],
      "name at least one DEVICE_ID",
    ],
    [["resolve", "d", "--space-key", "--admin", "ops", "--password-stdin", "--adopt"], "--adopt"],
  ])("refuses %j as bad usage", async (args, message) => {
    const target = await api();
    const result = await run(target, args, { stdin: "pw\n" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(target.requests).toEqual([]);
  });
});

describe.concurrent("failures and runs", () => {
  it("filters the list by device, cause and --since, sent as an ISO instant", async () => {
    const target = await api(() => ({ body: { items: [FAILURE], nextCursor: null } }));
    const before = Date.now();
    const result = await run(target, [
      "failures",
      "list",
      "--device",
      "dev-1",
      "--cause",
      "auth_rejected",
      "--since",
      "24h",
    ]);
    expect(result.code).toBe(0);
    const { query } = only(target.requests);
    expect(query).toMatchObject({ deviceId: "dev-1", cause: "AUTH_REJECTED" });
    // 24 h before the moment the CLI ran, which lies between `before` and now.
    const since = Date.parse(query.since as string) + 24 * 3_600_000;
    expect(since).toBeGreaterThanOrEqual(before);
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(result.stdout).toContain("HANDLING STEP");
    expect(result.stdout).toContain("restore authorized_keys, or resolve by hand");
  });

  it("filters by operation and up to an instant; refuses a range that ends before it starts", async () => {
    const target = await api(() => ({ body: { items: [FAILURE], nextCursor: null } }));
    const result = await run(target, [
      "failures",
      "list",
      "--operation",
      "resolve",
      "--until",
      "2025-06-02T00:00:00Z",
    ]);
    expect(result.code).toBe(0);
    expect(only(target.requests).query).toEqual({
      operation: "RESOLVE",
      until: "2025-06-02T00:00:00.000Z",
      limit: expect.any(String),
    });
    const backwards = await run(target, ["failures", "list", "--since", "1h", "--until", "2h"]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain("--since must not be after --until");
    const operation = await run(target, ["failures", "list", "--operation", "PANIC"]);
    expect(operation.code).toBe(2);
    expect(operation.stderr).toContain("--operation must be one of DETECT");
    expect(target.requests).toHaveLength(1);
  });

  it("refuses an unknown cause and a --since it cannot read", async () => {
    const target = await api();
    const cause = await run(target, ["failures", "list", "--cause", "BAD_LUCK"]);
    expect(cause.code).toBe(2);
    expect(cause.stderr).toContain("--cause must be one of INVALID_PRIVATE_KEY");
    const since = await run(target, ["failures", "list", "--since", "yesterday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since must be a duration such as 90m, 24h or 7d");
    expect(target.requests).toEqual([]);
  });

  it("shows one failure with its handling step, --json in the fixed shape", async () => {
    const target = await api((request) =>
      request.path === `/failures/${FAILURE.id}` ? { body: FAILURE } : undefined,
    );
    const human = await run(target, ["failures", "show", FAILURE.id]);
    expect(human.stdout).toContain("Handling step:   restore authorized_keys, or resolve by hand");
    const json = await run(target, ["failures", "show", FAILURE.id, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(FAILURE);
  });

  it("deletes one failure by id", async () => {
    const target = await api((request) =>
      request.method === "DELETE" ? { body: { deleted: 1 } } : undefined,
    );
    const one = await run(target, ["failures", "delete", FAILURE.id]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`Deleted failure ${FAILURE.id}.\n`);
    expect(only(target.requests)).toMatchObject({
      method: "DELETE",
      path: `/failures/${FAILURE.id}`,
      query: {},
    });
  });

  it("deletes all that match the filters 200 at a time, counting against the stats total", async () => {
    const pages = [
      { deleted: 200, more: true },
      { deleted: 200, more: true },
      { deleted: 50, more: false },
    ];
    const target = await api((request) => {
      if (request.path === "/failures/stats") {
        return {
          body: {
            since: request.query.since ?? null,
            until: null,
            deviceId: request.query.deviceId ?? null,
            total: 900,
            items: [
              { cause: "CONNECTION_REFUSED", count: 450, hint: "start sshd" },
              { cause: "AUTH_REJECTED", count: 450, hint: "resolve by hand" },
            ],
          },
        };
      }
      return request.method === "DELETE" ? { body: pages.shift() } : undefined;
    });
    const all = await run(target, [
      "failures",
      "delete",
      "--all",
      "--yes",
      "--device",
      "dev-1",
      "--cause",
      "AUTH_REJECTED",
      "--since",
      "2025-01-31",
      "--json",
    ]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({ deleted: 450 });
    // Not a terminal: no progress line.
    expect(all.stderr).toBe("");
    const filter = { deviceId: "dev-1", since: "2025-01-31T00:00:00.000Z" };
    expect(target.requests.map((request) => [request.method, request.path, request.query])).toEqual(
      [
        ["GET", "/failures/stats", filter],
        ...[1, 2, 3].map(() => [
          "DELETE",
          "/failures",
          { ...filter, cause: "AUTH_REJECTED", limit: "200" },
        ]),
      ],
    );
    pages.push({ deleted: 900, more: false });
    const human = await run(target, ["failures", "delete", "--all", "--yes"]);
    expect(human.stdout).toBe("Deleted 900 failures.\n");
  });

  it("deletes nothing when the stats count no match, and stops when the API makes no progress", async () => {
    const none = await api((request) =>
      request.path === "/failures/stats"
        ? { body: { since: null, until: null, deviceId: null, total: 3, items: [] } }
        : { status: 500, body: { message: "must not be called" } },
    );
    const nothing = await run(none, ["failures", "delete", "--all", "--yes", "--cause", "TIMEOUT"]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toBe("No failures (cause TIMEOUT) to delete.\n");
    expect(none.requests.map((request) => request.method)).toEqual(["GET"]);

    const stuck = await api((request) =>
      request.path === "/failures/stats"
        ? { body: { since: null, until: null, deviceId: null, total: 3, items: [] } }
        : { body: { deleted: 0, more: true } },
    );
    const result = await run(stuck, ["failures", "delete", "--all", "--yes"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("more records remain but none were deleted");
  });

  it("deletes in one call on an API without stats that deletes every match at once", async () => {
    const target = await api((request) =>
      request.method === "DELETE" ? { body: { deleted: 7, more: false } } : undefined,
    );
    const result = await run(target, ["failures", "delete", "--all", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Deleted 7 failures.\n");
    expect(target.requests.map((request) => request.method)).toEqual(["GET", "DELETE"]);
  });

  it("refuses --all without --yes when stdin is not a terminal, sending nothing", async () => {
    const target = await api();
    const result = await run(target, ["failures", "delete", "--all", "--cause", "TIMEOUT"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "--all deletes every matching failure record (cause TIMEOUT), and stdin is not a terminal to confirm on: add --yes",
    );
    expect(target.requests).toEqual([]);
  });

  it("counts failures by cause with their handling step; --json gives the API's shape", async () => {
    const stats = {
      since: "2025-06-01T12:00:00.000Z",
      until: null,
      deviceId: null,
      total: 5,
      items: [
        { cause: "CONNECTION_REFUSED", count: 4, hint: "Start sshd on the device" },
        { cause: "AUTH_REJECTED", count: 1, hint: "Resolve by hand" },
      ],
    };
    const target = await api((request) =>
      request.path === "/failures/stats" ? { body: stats } : undefined,
    );
    const human = await run(target, ["failures", "stats", "--since", "24h", "--device", "dev-1"]);
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n").slice(1, 4)).toEqual([
      "CAUSE               COUNT  HANDLING STEP",
      "CONNECTION_REFUSED  4      Start sshd on the device",
      "AUTH_REJECTED       1      Resolve by hand",
    ]);
    expect(human.stdout).toMatch(/^5 failures \(device dev-1, since \d{4}-\d\d-\d\dT[\d:]+Z\)\.\n/);
    const query = target.requests[0]?.query ?? {};
    expect(Object.keys(query).sort()).toEqual(["deviceId", "since"]);
    expect(Date.now() - Date.parse(query.since as string)).toBeGreaterThan(24 * 3_600_000 - 5_000);
    const json = await run(target, ["failures", "stats", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(stats);
    expect(target.requests[1]?.query).toEqual({});
    const bad = await run(target, ["failures", "stats", "--cause", "TIMEOUT"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option --cause");
  });

  it("refuses delete with neither an id nor --all, with both, or with filters on one id", async () => {
    const target = await api();
    for (const args of [
      ["failures", "delete"],
      ["failures", "delete", "x", "--all"],
      ["failures", "delete", "x", "--cause", "AUTH_REJECTED"],
    ]) {
      expect((await run(target, args)).code).toBe(2);
    }
    expect(target.requests).toEqual([]);
  });

  it("retries a failure: POST /failures/{id}/retry, then --json prints { runId }", async () => {
    const target = await api(() => ({ status: 202, body: { runId: "dev-1-retry" } }));
    const result = await run(target, ["failures", "retry", FAILURE.id, "--json"]);
    expect(result.code).toBe(0);
    expect(only(target.requests)).toMatchObject({
      method: "POST",
      path: `/failures/${FAILURE.id}/retry`,
    });
    expect(JSON.parse(result.stdout)).toEqual({ runId: "dev-1-retry" });
  });

  it("shows a run with its steps; a run id is escaped in the path", async () => {
    const id = "local:reconnect:dev-1-abc";
    const target = await api((request) =>
      request.path === `/runs/${encodeURIComponent(id)}`
        ? { body: runRecord(id, "FAILED") }
        : undefined,
    );
    const result = await run(target, ["runs", "show", id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Status:    FAILED");
    expect(result.stdout).toMatch(/Detect\s+Task\s+CAUGHT/);
    expect(result.stdout).toContain("caught → RecordFailure");
  });
});

describe.concurrent("errors from the API", () => {
  it("exits 2 with the server's message for a 4xx, 3 for a 5xx", async () => {
    const target = await api((request) =>
      request.path === "/runs/missing"
        ? { status: 404, body: { error: "NotFound", message: 'No run with id "missing".' } }
        : { status: 500, body: { error: "Internal", message: "Internal error" } },
    );
    const missing = await run(target, ["runs", "show", "missing"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No run with id "missing". (GET /runs/missing: 404)');
    const broken = await run(target, ["keys", "list"]);
    expect(broken.code).toBe(3);
  });

  it("explains a refused token", async () => {
    const target = await api(() => ({
      status: 401,
      body: { error: "Unauthorized", message: "Missing or wrong bearer token." },
    }));
    const result = await run(target, ["keys", "list"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the API refused the token in ${target.dataDir}/api-token`);
  });
});

const JOB = {
  id: "job-1",
  kind: "resolve",
  status: "FAILED",
  total: 2,
  succeeded: 1,
  failed: 1,
  running: 0,
  createdAt: "2025-06-01T12:00:00.000Z",
  runs: [
    { deviceId: "dev-1", runId: "r-1", status: "SUCCEEDED", error: null, cause: null },
    {
      deviceId: "dev-2",
      runId: "r-2",
      status: "FAILED",
      error: "Keyheal.AuthRejected",
      cause: JSON.stringify({ cause: "AUTH_REJECTED", message: "wrong password" }),
    },
  ],
};

describe.concurrent("jobs", () => {
  it("resolve prints its job id and how to follow it", async () => {
    const target = await api(() => ({
      status: 202,
      body: { jobId: "job-1", runs: JOB.runs.map(({ deviceId, runId }) => ({ deviceId, runId })) },
    }));
    const result = await run(
      target,
      ["resolve", "dev-1", "dev-2", "--space-key", "--admin", "ops", "--password-stdin"],
      { stdin: "pw\n" },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Job: job-1\n");
    expect(result.stdout).toContain("Follow with: keyheal jobs show job-1 --wait");
    const json = await run(
      target,
      ["resolve", "dev-1", "--space-key", "--admin", "ops", "--password-stdin", "--json"],
      { stdin: "pw\n" },
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ jobId: "job-1" });
  });

  it("resolve --wait follows the job, then prints its runs; exit 1 when one FAILED", async () => {
    let polls = 0;
    const target = await api((request) => {
      if (request.path === "/devices/resolve") {
        return {
          status: 202,
          body: {
            jobId: "job-1",
            runs: JOB.runs.map(({ deviceId, runId }) => ({ deviceId, runId })),
          },
        };
      }
      if (request.path === "/jobs/job-1") {
        polls += 1;
        return {
          body:
            polls === 1 ? { ...JOB, status: "RUNNING", succeeded: 0, failed: 0, running: 2 } : JOB,
        };
      }
      if (request.path === "/runs/r-1") return { body: runRecord("r-1", "SUCCEEDED") };
      if (request.path === "/runs/r-2") return { body: runRecord("r-2", "FAILED", "dev-2") };
      return undefined;
    });
    const result = await run(
      target,
      ["resolve", "dev-1", "dev-2", "--space-key", "--admin", "ops", "--password-stdin"].concat(
        "--wait",
        "--json",
      ),
      { stdin: "pw\n" },
    );
    expect(result.code).toBe(1);
    const printed = JSON.parse(result.stdout);
    expect(printed.jobId).toBe("job-1");
    expect(
      printed.items.map((each: { id: string; status: string }) => [each.id, each.status]),
    ).toEqual([
      ["r-1", "SUCCEEDED"],
      ["r-2", "FAILED"],
    ]);
    expect(target.requests.map((request) => request.path)).toEqual([
      "/devices/resolve",
      "/jobs/job-1",
      "/jobs/job-1",
      "/runs/r-1",
      "/runs/r-2",
    ]);
    expect(result.stderr).toContain("keyheal runs show r-2");
  });

  it("shows a job: counts, and each device's run with its failure cause", async () => {
    const target = await api((request) =>
      request.path === "/jobs/job-1" ? { body: JOB } : undefined,
    );
    const human = await run(target, ["jobs", "show", "job-1"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("Status:   FAILED\n");
    expect(human.stdout).toContain("Runs:     1/2 succeeded · 1 failed\n");
    expect(human.stdout).toMatch(/dev-2\s+r-2\s+FAILED\s+AUTH_REJECTED: wrong password/);
    const json = await run(target, ["jobs", "show", "job-1", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(JOB);
    const waited = await run(target, ["jobs", "show", "job-1", "--wait"]);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain("run r-2 FAILED");
    const missing = await run(target, ["jobs", "show", "job-2"]);
    expect(missing.code).toBe(2);
  });
});
