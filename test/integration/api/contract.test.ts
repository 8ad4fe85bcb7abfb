/**
 * The contract test of the ops API: every route of the route table answers, through the same
 * dispatch the local runtime and API Gateway use, against the embedded store, a real workflow
 * interpreter and one real sshd device; every answer, as it goes on the wire, is parsed by its
 * schema of lib/contract/api.ts (strict: an unknown field fails), error answers included.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  BadRequestError,
  errorResponse,
  ForeignRequestError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../../../lib/api/errors.ts";
import { createRouter, dispatch, ROUTES } from "../../../lib/api/routes.ts";
import type { ApiContext } from "../../../lib/api/types.ts";
import { ANSWERS, type AnswerOf, ErrorAnswer, type RouteKey } from "../../../lib/contract/api.ts";
import { API_ERROR_CODES } from "../../../lib/contract/vocabulary.ts";
import { deviceReconnectedEvent } from "../../../lib/events/build.ts";
import { IntakeStats } from "../../../lib/events/intake-stats.ts";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { DynamoJobStore } from "../../../lib/store/dynamo-job-store.ts";
import { KeyGenerationConflictError, NotFoundError } from "../../../lib/store/errors.ts";
import { LocalStarter } from "../../../lib/workflows/starters.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

let env: WorkflowEnv;
let ctx: ApiContext;
const router = createRouter();
const password = inject("devicePassword");
/** Routes whose success answer was parsed by its schema. */
const answered = new Set<string>();
const routeKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

interface Call {
  query?: Record<string, string>;
  body?: unknown;
}

/** One request through the route table; the answer as a client receives it (JSON). */
async function send(method: string, path: string, call: Call = {}) {
  const answer = await dispatch(ctx, router, method, path, {
    query: call.query ?? {},
    body: call.body,
  });
  return { status: answer.status, body: JSON.parse(JSON.stringify(answer.body)) as unknown };
}

/** A success of `route`: its status, and a body its contract schema parses strictly. */
async function ok<R extends RouteKey>(route: R, path: string, call?: Call): Promise<AnswerOf<R>> {
  const [method] = route.split(" ") as [string];
  expect(routeKey(router.match(method, path).route)).toBe(route);
  const { status, body } = await send(method, path, call);
  expect(status, JSON.stringify(body)).toBe(ANSWERS[route].status);
  const parsed = ANSWERS[route].body.parse(body) as AnswerOf<R>;
  answered.add(route);
  return parsed;
}

/** An error answer: `status`, and a body the error schema parses strictly. */
async function fails(method: string, path: string, status: number, call?: Call) {
  const answer = await send(method, path, call);
  expect(answer.status).toBe(status);
  return ErrorAnswer.parse(answer.body);
}

/** Reads the run until it has ended; every read is held against the contract. */
async function ended(runId: string): Promise<AnswerOf<"GET /runs/{id}">> {
  for (let read = 0; read < 300; read += 1) {
    const run = await ok("GET /runs/{id}", `/runs/${encodeURIComponent(runId)}`);
    if (run.status !== "RUNNING") return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not end within 30 s`);
}

/** A loopback port nothing listens on: the device behind it refuses connections. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  env = await startWorkflowEnv({ devices: 1, name: "contract" });
  const starter = new LocalStarter(env.runner);
  ctx = {
    deps: env.deps,
    runs: env.runs,
    jobs: new DynamoJobStore({ client: env.dynamo.client, tableName: env.dynamo.tables.jobs }),
    starter,
    intake: {
      devices: env.deps.devices,
      starter,
      stats: new IntakeStats(),
      logger: env.deps.logger,
    },
  };
});

afterAll(async () => {
  await env?.runner.drain();
  await env?.stop();
});

describe("the ops API's answers hold to lib/contract/api.ts", () => {
  it("names every route of the route table in the contract, and no other", () => {
    expect(Object.keys(ANSWERS).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it("answers every route in its contract shape, from registration to delete", async () => {
    const d = env.device(0);
    const platform = generateKeyPair({ comment: "contract" });
    await d.resetHome(`${platform.authorizedKey}\n`);
    const down = { id: "down-1", host: "127.0.0.1", port: await closedPort(), adminUser: "ops" };

    const registered = await ok("POST /devices", "/devices", {
      body: {
        devices: [
          {
            id: d.id,
            host: d.host,
            port: d.port,
            adminUser: d.user,
            hostKeyFingerprint: d.hostKeyFingerprint,
          },
          down,
        ],
      },
    });
    expect(registered.items.map((x) => x.status)).toEqual(["UNKNOWN", "UNKNOWN"]);
    const key = await ok("POST /keys/import", "/keys/import", {
      body: { privateKey: platform.privateKey },
    });
    expect(key).toMatchObject({ generation: 1, status: "CURRENT" });
    expect((await ok("GET /keys", "/keys")).items).toHaveLength(1);

    // A reconnect that heals nothing (the device holds the key), and one that fails.
    const healthy = await ok("POST /events", "/events", {
      body: deviceReconnectedEvent({ deviceId: d.id }),
    });
    expect(healthy.outcome).toBe("started");
    expect((await ended(healthy.runId as string)).status).toBe("SUCCEEDED");
    const refused = await ok("POST /events", "/events", {
      body: deviceReconnectedEvent({ deviceId: down.id }),
    });
    await ended(refused.runId as string);
    const ignored = await ok("POST /events", "/events", {
      body: deviceReconnectedEvent({ deviceId: "nobody" }),
    });
    expect(ignored).toMatchObject({ outcome: "ignored", runId: null, reason: "UNKNOWN_DEVICE" });

    const devices = await ok("GET /devices", "/devices", { query: { q: d.id } });
    expect(devices.items[0]).toMatchObject({ status: "KEY_BASED", keyGeneration: 1 });
    const stats = await ok("GET /devices/stats", "/devices/stats");
    expect(stats.total).toBe(2);

    const failures = await ok("GET /failures", "/failures", { query: { deviceId: down.id } });
    const failure = failures.items[0];
    expect(failure?.cause).toBe("CONNECTION_REFUSED");
    const id = failure?.id as string;
    await ok("GET /failures/{id}", `/failures/${id}`);
    const byCause = await ok("GET /failures/stats", "/failures/stats", { query: { since: "1h" } });
    expect(byCause.items.map((x) => x.cause)).toContain("CONNECTION_REFUSED");
    const retry = await ok("POST /failures/{id}/retry", `/failures/${id}/retry`);
    await ended(retry.runId);
    expect((await ok("GET /failures/{id}", `/failures/${id}`)).retriedByRunId).toBe(retry.runId);

    // A rotation's run carries its fan-out; a resolve is a job.
    const rotation = await ok("POST /keys/rotate", "/keys/rotate", { body: { canary: 0 } });
    expect((await ended(rotation.runId)).progress).toMatchObject({ total: 2, done: 2 });
    const resolve = await ok("POST /devices/resolve", "/devices/resolve", {
      body: { mode: "space-key", devices: [{ id: down.id, adminUser: "ops" }], password },
    });
    let job = await ok("GET /jobs/{id}", `/jobs/${resolve.jobId}`);
    for (let read = 0; job.status === "RUNNING" && read < 300; read += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await ok("GET /jobs/{id}", `/jobs/${resolve.jobId}`);
    }
    expect(job).toMatchObject({ status: "FAILED", total: 1, failed: 1 });

    expect(await ok("DELETE /failures/{id}", `/failures/${id}`)).toEqual({ deleted: 1 });
    const batch = await ok("DELETE /failures", "/failures", { query: { limit: "1" } });
    expect(batch.deleted).toBe(1);
    await ok("DELETE /failures", "/failures");
    expect((await ok("GET /failures", "/failures")).items).toEqual([]);

    expect([...answered].sort()).toEqual(Object.keys(ANSWERS).sort());
  });

  it("answers errors in the error shape: 400 naming the field, 404, 405", async () => {
    const limit = await fails("GET", "/failures", 400, { query: { limit: "0" } });
    expect(limit).toMatchObject({ error: "BadRequest", field: "limit" });
    expect(limit.issues?.[0]?.path).toBe("limit");
    const unknownField = await fails("POST", "/keys/rotate", 400, { body: { colour: "blue" } });
    expect(unknownField.field).toBe("colour");
    const badKey = await fails("POST", "/keys/import", 400, { body: { privateKey: "not a key" } });
    expect(badKey.field).toBe("privateKey");
    const badEvent = await fails("POST", "/events", 400, { body: { source: "keyheal" } });
    expect(badEvent.issues?.length).toBeGreaterThan(0);
    await fails("GET", "/failures/01JX0000000000000000000000", 404);
    await fails("GET", "/jobs/job-nope", 404);
    await fails("GET", "/runs/nope", 404);
    await fails("GET", "/nowhere", 404);
    expect((await fails("PUT", "/keys", 405)).error).toBe("MethodNotAllowed");
  });

  it("gives every error class an answer of the contract, each error code once at least", () => {
    const errors = [
      new BadRequestError("limit", "limit: must be at most 500"),
      new UnauthorizedError(),
      new ForeignRequestError("Host 127.0.0.2 is not this server's"),
      new NotFoundError("device", "dev-9"),
      new KeyGenerationConflictError(3),
      new PayloadTooLargeError(1_048_576),
      new Error("anything unexpected"),
    ];
    const codes = new Set<string>(["MethodNotAllowed"]);
    for (const error of errors) codes.add(ErrorAnswer.parse(errorResponse(error).body).error);
    expect([...codes].sort()).toEqual([...API_ERROR_CODES].sort());
  });

  it("refuses an answer with a field the contract does not name", () => {
    const answer = { runId: "r-1", extra: true };
    expect(ANSWERS["POST /keys/rotate"].body.safeParse(answer).success).toBe(false);
  });
});
