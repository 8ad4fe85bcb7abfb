import type { Logger } from "@aws-lambda-powertools/logger";
import type { CloudInventory, DiscoveryTag } from "../cloud/types.ts";
import type { DeviceStore } from "../devices/types.ts";
import {
  type EventType,
  type IgnoreReason,
  type IntakeStats,
  type ParseEventOptions,
  parseReconnectEvent,
  runNameFor,
} from "../events/index.ts";
import type { WorkflowStarter } from "./starters.ts";

/** How the reconnect run was triggered; `ec2` makes Detect wait for a booting sshd. */
export type ReconnectTrigger = "ec2" | "device";

/** The input of the reconnect workflow, as intake starts it. */
export interface ReconnectRunInput {
  deviceId: string;
  eventId: string;
  trigger: ReconnectTrigger;
  attempt: number;
}

export interface IntakeDeps {
  devices: DeviceStore;
  starter: WorkflowStarter;
  stats: IntakeStats;
  logger: Pick<Logger, "info" | "warn">;
}

export interface IntakeOptions extends ParseEventOptions {
  /**
   * For EC2 events about a registered device, after the lookup: is the instance still managed
   * (say, still tagged)? False ignores the event as `UNMANAGED_INSTANCE`. Asynchronous, unlike
   * `isManagedInstance`, so it may ask EC2; see {@link managedByTag}.
   */
  confirmManaged?: (instanceId: string, region: string) => Promise<boolean>;
}

/** A run was started for the event, or one of the same name already existed. */
export interface AcceptedIntake {
  outcome: "started" | "duplicate";
  runId: string;
  eventType: EventType;
  eventId: string;
  deviceId: string;
  trigger: ReconnectTrigger;
}

/** A valid event that starts nothing. */
export interface IgnoredIntake {
  outcome: "ignored";
  reason: IgnoreReason;
  eventType: EventType;
  eventId: string;
  /** One line for the log. */
  message: string;
}

export type IntakeResult = AcceptedIntake | IgnoredIntake;

/**
 * Takes in one EventBridge-shaped event: an EC2 instance entering `running`, or a Device
 * Reconnected event, about a registered device starts the reconnect workflow, named by
 * `runNameFor(deviceId, eventId)` so a redelivered event starts no second run. EC2 instances
 * are found as the device whose id is the instance id, as discovery registers them.
 *
 * Every call counts exactly one outcome in `deps.stats`: accepted by event type, ignored by
 * reason, or rejected by error class.
 *
 * @throws InvalidEventError (or its subclass UnknownEventTypeError) for a malformed event, of
 *   any shape at all; nothing is started. The caller maps it: HTTP 400 locally, a failed
 *   invocation on Lambda.
 * @throws whatever the device store or the starter throw (counted as `INTERNAL`).
 */
export async function intakeEvent(
  deps: IntakeDeps,
  raw: unknown,
  options: IntakeOptions = {},
): Promise<IntakeResult> {
  const { stats, logger } = deps;
  try {
    const parsed = parseReconnectEvent(raw, options);
    const { eventType, eventId } = parsed;
    const ignore = (reason: IgnoreReason, message: string): IgnoredIntake => {
      stats.recordIgnored(reason);
      logger.info("event ignored", { eventId, eventType, reason, detail: message });
      return { outcome: "ignored", reason, eventType, eventId, message };
    };
    if (parsed.kind === "ignored") return ignore(parsed.reason, parsed.message);

    const ref = parsed.deviceRef;
    const ec2 = "instanceId" in ref;
    const deviceId = ec2 ? ref.instanceId : ref.deviceId;
    const device = await deps.devices.get(deviceId);
    if (!device) {
      const what = ec2 ? `instance ${ref.instanceId} in ${ref.region}` : `device ${deviceId}`;
      return ignore("UNKNOWN_DEVICE", `${what} is not a registered device`);
    }
    if (ec2 && options.confirmManaged && !(await options.confirmManaged(deviceId, ref.region))) {
      return ignore("UNMANAGED_INSTANCE", `${deviceId} in ${ref.region} is no longer managed`);
    }

    const trigger: ReconnectTrigger = ec2 ? "ec2" : "device";
    const input: ReconnectRunInput = { deviceId, eventId, trigger, attempt: 1 };
    const { runId, started } = await deps.starter.start(
      "reconnect",
      runNameFor(deviceId, eventId),
      input,
    );
    stats.recordAccepted(eventType);
    const outcome = started ? "started" : "duplicate";
    logger.info(started ? "reconnect started" : "duplicate event", {
      eventId,
      eventType,
      deviceId,
      runId,
    });
    return { outcome, runId, eventType, eventId, deviceId, trigger };
  } catch (error) {
    const reason = stats.recordError(error);
    logger.warn("event rejected", { reason, error: error as Error });
    throw error;
  }
}

/**
 * A `confirmManaged` check: the instance carries `tag` (any value when `tag.value` is absent).
 * An instance EC2 no longer knows is not managed.
 *
 * @throws Ec2RequestError when EC2 fails; intake counts it as `INTERNAL` and rethrows.
 */
export function managedByTag(
  cloud: Pick<CloudInventory, "describeInstance">,
  tag: DiscoveryTag,
): (instanceId: string) => Promise<boolean> {
  return async (instanceId) => {
    const instance = await cloud.describeInstance(instanceId);
    if (!instance || !Object.hasOwn(instance.tags, tag.key)) return false;
    return tag.value === undefined || instance.tags[tag.key] === tag.value;
  };
}
