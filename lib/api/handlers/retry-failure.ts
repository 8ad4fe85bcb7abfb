import { randomUUID } from "node:crypto";
import type { RunStarted } from "../../contract/api.ts";
import { runNameFor } from "../../events/run-name.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { ReconnectRunInput } from "../../workflows/intake.ts";
import type { ApiHandler } from "../types.ts";
import { failureId } from "./failures.ts";

/**
 * `POST /failures/{id}/retry`: a new reconnect run for the failure's device, named like any
 * event's run from the device and a fresh event id, as attempt `failure.attempt + 1`. The
 * record is marked retried with the new run's id. 202 with `{ runId }`.
 */
export const retryFailure: ApiHandler = async (ctx, { params }) => {
  const id = failureId(params);
  const { deps } = ctx;
  const failure = await deps.failures.get(id);
  if (!failure) throw new NotFoundError("failure", id);
  if (!(await deps.devices.get(failure.deviceId))) {
    throw new NotFoundError("device", failure.deviceId);
  }
  const eventId = `retry-${id}-${randomUUID()}`;
  const input: ReconnectRunInput = {
    deviceId: failure.deviceId,
    eventId,
    trigger: "device",
    attempt: failure.attempt + 1,
  };
  const { runId } = await ctx.starter.start(
    "reconnect",
    runNameFor(failure.deviceId, eventId),
    input,
  );
  await deps.failures.markRetried(id, runId);
  deps.logger.info("failure retried", { failureId: id, deviceId: failure.deviceId, runId });
  return { status: 202, body: { runId } satisfies RunStarted };
};
