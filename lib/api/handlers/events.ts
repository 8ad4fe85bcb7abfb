import type { EventAnswer } from "../../contract/api.ts";
import { intakeEvent } from "../../workflows/intake.ts";
import type { ApiHandler } from "../types.ts";

/**
 * `POST /events`: one EventBridge-shaped event through the same intake as on AWS. 202 with
 * `{ outcome: started|duplicate|ignored, runId }` (`runId` null when ignored, with the reason).
 * A malformed event is an InvalidEventError: a 400 naming the field.
 */
export const postEvent: ApiHandler = async (ctx, { body }) => {
  const result = await intakeEvent(ctx.intake, body, ctx.intakeOptions);
  if (result.outcome === "ignored") {
    return {
      status: 202,
      body: {
        outcome: result.outcome,
        runId: null,
        eventId: result.eventId,
        reason: result.reason,
        message: result.message,
      } satisfies EventAnswer,
    };
  }
  return {
    status: 202,
    body: {
      outcome: result.outcome,
      runId: result.runId,
      eventId: result.eventId,
      deviceId: result.deviceId,
    } satisfies EventAnswer,
  };
};
