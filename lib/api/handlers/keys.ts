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

/** `POST /keys/rotate { type? }`: starts the rotate workflow. 202 with `{ runId }`. */
export const rotateKey: ApiHandler = async (ctx, { body }) => {
  const { type } = parseRequest(RotateBody, body ?? {}, "(body)");
  const algorithm = type ?? "ed25519";
  const { runId } = await ctx.starter.start("rotate", operatorRunName("rotate"), { algorithm });
  ctx.deps.logger.info("rotation started", { algorithm, runId });
  return { status: 202, body: { runId } };
};
