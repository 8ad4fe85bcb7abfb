import { NotFoundError } from "../../store/errors.ts";
import type { ApiHandler } from "../types.ts";
import { runView } from "../views.ts";

/**
 * An execution ARN as the deployed API answers it (`runId` of a started run), a Distributed Map
 * child's included (`execution:<machine>/<map run label>:<name>`).
 */
const EXECUTION_ARN =
  /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}(?:\/[A-Za-z0-9_-]{1,80})?:[A-Za-z0-9_-]{1,80}$/;
/** A run name (what local mode answers), or the id a local failure record carries. */
const LOCAL_ID = /^(?:local:[a-z]+:)?([A-Za-z0-9_-]{1,80})$/;

/**
 * The id a run reader is asked for, from the id an operator holds: an execution ARN stays whole
 * (the AWS reader reads it), `local:<workflow>:<name>` and a bare name become the name. An id
 * that arrives still percent-encoded (a client that encoded an already encoded ARN, or a proxy
 * that passed the encoding through) is decoded once more.
 *
 * @returns undefined for an id of no known shape.
 */
export function runLookupId(id: string): string | undefined {
  if (EXECUTION_ARN.test(id)) return id;
  const name = LOCAL_ID.exec(id)?.[1];
  if (name !== undefined) return name;
  if (!/%[0-9A-Fa-f]{2}/.test(id)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    return undefined;
  }
  return decoded === id ? undefined : runLookupId(decoded);
}

/** `GET /runs/{id}`: a run's status and its steps. */
export const getRun: ApiHandler = async (ctx, { params }) => {
  const id = params.id ?? "";
  const lookup = runLookupId(id);
  const run = lookup === undefined ? undefined : await ctx.runs.get(lookup);
  if (!run) throw new NotFoundError("run", id);
  return { status: 200, body: runView(run) };
};
