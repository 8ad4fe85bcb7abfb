import type { AnswerOf } from "../../contract/api.ts";
import { type Cause, hintFor } from "../../failures/causes.ts";
import { NotFoundError } from "../../store/errors.ts";
import {
  deleteFailuresQuery,
  failureStatsQuery,
  listFailuresQuery,
  parseRequest,
} from "../schemas.ts";
import type { ApiHandler } from "../types.ts";
import { failureView, pageView } from "../views.ts";

/** Failure ids are ULIDs; anything else names no record. */
const FAILURE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The `{id}` of a failure path; an id that is not a ULID names no record (404). */
export function failureId(params: Readonly<Record<string, string>>): string {
  const id = params.id ?? "";
  if (!FAILURE_ID.test(id)) throw new NotFoundError("failure", id);
  return id;
}

/** `GET /failures?deviceId=&cause=&since=&until=&cursor=&limit=`, newest first. */
export const listFailures: ApiHandler = async (ctx, { query }) => {
  const q = parseRequest(listFailuresQuery(ctx.deps.now), query, "(query)");
  return { status: 200, body: pageView(await ctx.deps.failures.list(q), failureView) };
};

export const getFailure: ApiHandler = async (ctx, { params }) => {
  const id = failureId(params);
  const failure = await ctx.deps.failures.get(id);
  if (!failure) throw new NotFoundError("failure", id);
  return { status: 200, body: failureView(failure) };
};

/** `DELETE /failures/{id}`: 200 `{ deleted: 1 }`, 404 when there is no such record. */
export const deleteFailure: ApiHandler = async (ctx, { params }) => {
  const id = failureId(params);
  if (!(await ctx.deps.failures.delete(id))) throw new NotFoundError("failure", id);
  ctx.deps.logger.info("failure deleted", { failureId: id });
  return { status: 200, body: { deleted: 1 } satisfies AnswerOf<"DELETE /failures/{id}"> };
};

/**
 * `DELETE /failures?deviceId=&cause=&operation=&since=&until=&limit=`: every match (all without a
 * filter), or at most `limit` of them. 200 with `{ deleted, more }`.
 */
export const deleteFailures: ApiHandler = async (ctx, { query }) => {
  const { limit, ...filter } = parseRequest(deleteFailuresQuery(ctx.deps.now), query, "(query)");
  const result =
    limit === undefined
      ? { deleted: await ctx.deps.failures.deleteMany(filter), more: false }
      : await ctx.deps.failures.deleteSome(filter, limit);
  ctx.deps.logger.info("failures deleted", { ...filter, ...result });
  return { status: 200, body: result satisfies AnswerOf<"DELETE /failures"> };
};

/**
 * `GET /failures/stats?since=&until=&deviceId=`: live records per cause, most frequent first,
 * each with its handling step. 200 with `{ since, until, deviceId, total, items: [{ cause,
 * count, hint }] }`.
 */
export const failureStats: ApiHandler = async (ctx, { query }) => {
  const filter = parseRequest(failureStatsQuery(ctx.deps.now), query, "(query)");
  const counts = await ctx.deps.failures.countByCause(filter);
  const items = (Object.entries(counts) as Array<[Cause, number]>)
    .filter(([, count]) => count > 0)
    .map(([cause, count]) => ({ cause, count, hint: hintFor(cause) }))
    .sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause));
  return {
    status: 200,
    body: {
      since: filter.since ?? null,
      until: filter.until ?? null,
      deviceId: filter.deviceId ?? null,
      total: items.reduce((sum, item) => sum + item.count, 0),
      items,
    } satisfies AnswerOf<"GET /failures/stats">,
  };
};
