import type { CloudInventory } from "../cloud/types.ts";
import { type IntakeOptions, managedByTag } from "../workflows/intake.ts";
import type { WorkflowName } from "../workflows/starters.ts";
import type { ParsedIntakeEnvironment } from "./env.ts";

/** The deployed state machine of each workflow, from a function's environment. */
export function stateMachineArnsOf(
  env: Pick<
    ParsedIntakeEnvironment,
    "RECONNECT_STATE_MACHINE_ARN" | "RESOLVE_STATE_MACHINE_ARN" | "ROTATE_STATE_MACHINE_ARN"
  >,
): Record<WorkflowName, string> {
  return {
    reconnect: env.RECONNECT_STATE_MACHINE_ARN,
    resolve: env.RESOLVE_STATE_MACHINE_ARN,
    rotate: env.ROTATE_STATE_MACHINE_ARN,
  };
}

/**
 * How an event is taken in: with `MANAGED_TAG_KEY` set, an EC2 event counts only while its
 * instance carries the tag (EventBridge rules are regional: events, instances and `cloud` share
 * a region).
 */
export function intakeOptionsOf(
  env: Pick<ParsedIntakeEnvironment, "MANAGED_TAG_KEY" | "MANAGED_TAG_VALUE">,
  cloud: () => CloudInventory,
): IntakeOptions {
  const key = env.MANAGED_TAG_KEY;
  if (key === undefined) return {};
  return {
    confirmManaged: managedByTag(cloud(), {
      key,
      ...(env.MANAGED_TAG_VALUE === undefined ? {} : { value: env.MANAGED_TAG_VALUE }),
    }),
  };
}
