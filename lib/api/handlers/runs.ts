import { NotFoundError } from "../../store/errors.ts";
import type { ApiHandler } from "../types.ts";
import { runView } from "../views.ts";

/**
 * A run's name from the id an operator holds: the name itself (what starting a run answers),
 * or the execution id a failure record carries (`local:<workflow>:<name>` in local mode).
 */
const RUN_ID = /^(?:local:[a-z]+:)?([A-Za-z0-9_-]{1,80})$/;

/** `GET /runs/{id}`: a run's status and its steps. */
export const getRun: ApiHandler = async (ctx, { params }) => {
  const id = params.id ?? "";
  const name = RUN_ID.exec(id)?.[1];
  const run = name === undefined ? undefined : await ctx.runs.get(name);
  if (!run) throw new NotFoundError("run", id);
  return { status: 200, body: runView(run) };
};
