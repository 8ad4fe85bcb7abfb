import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { runNameFor } from "../../../lib/events/run-name.ts";
import type { FailureRecord } from "../../../lib/failures/types.ts";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import { logger } from "../../../lib/lambda/powertools.ts";
import type { LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { RunRecord, RunStore } from "../../../lib/store/runs.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import type { DynamoHarness } from "../../harness/dynamo.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

/**
 * Secrets never leave the secret store: runs that handle private keys and the device password end
 * to end (heal, failure, Space-key resolve, failed resolve), with DEBUG logging, leave neither in
 * the output, the run records, the failure records nor any DynamoDB item.
 */

const password = inject("devicePassword");

/**
 * DEBUG logging for this file. `logger.setLogLevel("DEBUG")` alone does not hold: Powertools'
 * injectLambdaContext middleware resets the level to the one the logger was built with on every
 * invocation after the first (vitest.config.ts builds it at ERROR). So the logger module, loaded
 * fresh for this file, is built at DEBUG; the environment is restored in afterAll.
 */
const logLevelEnvBefore = vi.hoisted(() => {
  const before = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
  return before;
});

let env: WorkflowEnv;
let dynamo: DynamoHarness;
let deps: WorkflowDeps;
let runs: RunStore;
let runner: LocalWorkflowRunner;
let gen1: KeyPair;
let gen2: KeyPair;

/** The logger's level once the runs ended (the middleware may reset it between invocations). */
let levelDuringRuns = "";
/** Everything written to stdout, stderr and the console while the workflows ran. */
let captured = "";
const ended: Record<"healed" | "rejected" | "resolved" | "resolveFailed", RunRecord> = {} as never;

const device = () => env.device();

/** Replaces stdout, stderr and console writes with a recorder; returns the undo. */
function captureOutput(): () => void {
  const chunks: string[] = [];
  const record = (chunk: unknown, encoding?: unknown) => {
    chunks.push(
      typeof chunk === "string"
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
          ),
    );
  };
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
      record(chunk, encoding);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => done());
      return true;
    }) as typeof stream.write;
  }
  // Anything that logs through the global console (which vitest intercepts) is recorded too.
  const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      record(`${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}\n`);
    };
  }
  return () => {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    methods.forEach((method, i) => {
      console[method] = originals[i] as (typeof console)[typeof method];
    });
    captured = chunks.join("");
  };
}

/** What must never be stored or printed: private key material and the device password. */
function secrets(): { label: string; text: string }[] {
  const bodyLines = (key: KeyPair, label: string) =>
    key.privateKey
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length >= 16 && !line.startsWith("-----"))
      .map((text, i) => ({ label: `${label} private key line ${i + 1}`, text }));
  return [
    { label: "PEM armour", text: "PRIVATE KEY" },
    { label: "device password", text: password },
    ...bodyLines(gen1, "gen1"),
    ...bodyLines(gen2, "gen2"),
  ];
}

function expectNoSecretIn(where: string, text: string) {
  expect(text.length, `${where} is empty`).toBeGreaterThan(0);
  for (const { label, text: secret } of secrets()) {
    expect(text.includes(secret), `${where} contains the ${label}`).toBe(false);
  }
}

async function run(workflow: "reconnect" | "resolve", id: string, input: Record<string, unknown>) {
  const { done } = await runner.start(workflow, id, input);
  return done;
}

async function resolveWith(id: string, adminUser: string) {
  const secretRef = await deps.secrets.put(`resolve/${id}`, password, { ttlSeconds: 300 });
  return run("resolve", id, {
    deviceId: device().id,
    mode: "space-key",
    adminUser,
    loginUser: null,
    secretRef,
    passphraseRef: null,
    adopt: null,
  });
}

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "nosecrets",
    devices: 1,
    local: { sshTimeouts: { handshakeMs: 1500, connectMs: 1500 } },
  });
  ({ dynamo, deps, runs, runner } = env);
  gen1 = generateKeyPair({ comment: "gen1" });
  gen2 = generateKeyPair({ comment: "gen2" });
  await deps.keys.add(gen1);
  await deps.keys.add(gen2);
  await device().resetHome(`# kept\n${gen1.authorizedKey}\n`);
  await env.register(device());

  const level = logger.getLevelName();
  logger.setLogLevel("DEBUG");
  const stopCapture = captureOutput();
  try {
    // Heal: authorized_keys holds gen1, gen2 is current.
    ended.healed = await run("reconnect", runNameFor(device().id, "evt-heal"), {
      deviceId: device().id,
      eventId: "evt-heal",
      trigger: "device",
      attempt: 1,
    });
    // A failure record: the device holds no key keyheal knows.
    await device().resetHome(`${generateKeyPair().authorizedKey}\n`);
    ended.rejected = await run("reconnect", runNameFor(device().id, "evt-rejected"), {
      deviceId: device().id,
      eventId: "evt-rejected",
      trigger: "device",
      attempt: 1,
    });
    // The Space key: the operator's password (by reference) gets the platform key back in.
    ended.resolved = await resolveWith("resolve-ok", device().user);
    // A resolve that fails with the password in play: no such admin user to log in as.
    ended.resolveFailed = await resolveWith("resolve-fails", "kh-no-such-user");
    levelDuringRuns = logger.getLevelName();
  } finally {
    stopCapture();
    logger.setLogLevel(level);
  }
});

afterAll(async () => {
  if (logLevelEnvBefore === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = logLevelEnvBefore;
  await env?.stop();
});

describe("no secret leaves the secret store", () => {
  it("ran every scenario: heal, failure, Space-key resolve, failed resolve", async () => {
    expect(ended.healed.status).toBe("SUCCEEDED");
    expect(ended.healed.steps.map((s) => s.name)).toContain("MarkHealed");
    expect(ended.rejected.status).toBe("FAILED");
    expect(ended.resolved.status).toBe("SUCCEEDED");
    expect(ended.resolved.steps.map((s) => s.name)).toContain("Resolve");
    expect(ended.resolveFailed.status).toBe("FAILED");
    expect((await device().readAuthorizedKeys()).toString()).toContain(gen2.authorizedKey);
    expect((await deps.failures.list({ deviceId: device().id })).items).toHaveLength(2);
  });

  it("the capture works: the Tasks' logs, at DEBUG level, were recorded with fingerprints", () => {
    expect(levelDuringRuns).toBe("DEBUG");
    for (const message of ["detected", "resolved", "failure recorded"]) {
      expect(captured).toContain(`"message":"${message}"`);
    }
    expect(captured).toContain(gen2.fingerprint);
    expect(captured).toContain(device().hostKeyFingerprint);
  });

  it("logs and any other output hold no private key and no password", () => {
    expectNoSecretIn("captured output", captured);
  });

  it("run records hold no private key and no password", async () => {
    for (const [name, ended_] of Object.entries(ended)) {
      const stored = await runs.get(ended_.id);
      expect(stored, name).toBeDefined();
      expectNoSecretIn(`run record ${name}`, JSON.stringify(stored));
    }
  });

  it("failure records hold no private key and no password", async () => {
    const failures: FailureRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.failures.list({ ...(cursor ? { cursor } : {}) });
      failures.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const failure of failures) {
      expectNoSecretIn(`failure record ${failure.id}`, JSON.stringify(failure));
    }
  });

  it("no item in any keyheal table holds a private key or the password", async () => {
    let items = 0;
    for (const TableName of Object.values(dynamo.tables)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await dynamo.client.send(new ScanCommand({ TableName, ExclusiveStartKey }));
        for (const item of page.Items ?? []) {
          items += 1;
          expectNoSecretIn(`an item of ${TableName}`, JSON.stringify(item));
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    expect(items).toBeGreaterThan(0);
  });
});
