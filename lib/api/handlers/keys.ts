import type { RunStarted } from "../../contract/api.ts";
import { importPrivateKey } from "../../keys/index.ts";
import { operatorRunName } from "../run-names.ts";
import { ImportKeyBody, ListKeysQuery, parseRequest, RotateBody } from "../schemas.ts";
import type { ApiHandler } from "../types.ts";
import { keyView, pageView } from "../views.ts";

/** `GET /keys`: platform key generations, newest first. */
export const listKeys: ApiHandler = async (ctx, { query }) => {
  const q = parseRequest(ListKeysQuery, query, "(query)");
  return { status: 200, body: pageView(await ctx.deps.keys.list(q), keyView) };
};

/**
 * `POST /keys/import`: the operator's key becomes generation N+1, the current platform key.
 * A key that does not open (wrong or missing passphrase, DSA, too short, not a key) is a 400 on
 * `privateKey` or `passphrase`. 201 with the key (fingerprint, never the private half).
 */
export const importKey: ApiHandler = async (ctx, { body }) => {
  const { privateKey, passphrase } = parseRequest(ImportKeyBody, body, "(body)");
  const key = importPrivateKey(privateKey, { passphrase });
  const record = await ctx.deps.keys.add(key);
  ctx.deps.logger.info("key imported", {
    generation: record.generation,
    fingerprint: record.fingerprint,
  });
  return { status: 201, body: keyView(record) };
};

/** Devices installed at once when the request does not say: local mode, on one machine. */
export const LOCAL_ROTATE_CONCURRENCY = 8;
/** Devices that go first by default. */
export const DEFAULT_CANARY = 1;

/**
 * `POST /keys/rotate { type?, concurrency?, canary?, toleratedFailurePercentage? }`: starts the
 * rotate workflow. The workflow's input always carries every setting, so the state machine never
 * meets a missing path. 202 with `{ runId }`.
 */
export const rotateKey: ApiHandler = async (ctx, { body }) => {
  const request = parseRequest(RotateBody, body ?? {}, "(body)");
  const input = {
    algorithm: request.type ?? "ed25519",
    concurrency: request.concurrency ?? ctx.rotateConcurrency ?? LOCAL_ROTATE_CONCURRENCY,
    canary: request.canary ?? DEFAULT_CANARY,
    toleratedFailurePercentage: request.toleratedFailurePercentage ?? 100,
  };
  const { runId } = await ctx.starter.start("rotate", operatorRunName("rotate"), input);
  ctx.deps.logger.info("rotation started", { ...input, runId });
  return { status: 202, body: { runId } satisfies RunStarted };
};
