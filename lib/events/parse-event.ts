import type { z } from "zod";
import type { IgnoreReason } from "../contract/vocabulary.ts";
import { DETAIL_TYPES, type EventType, eventTypeOf } from "./detail-types.ts";
import { type EventIssue, InvalidEventError, UnknownEventTypeError } from "./errors.ts";
import {
  type DeviceReconnectedEvent,
  DeviceReconnectedEventSchema,
  type Ec2InstanceState,
  type Ec2StateChangeEvent,
  Ec2StateChangeEventSchema,
  EventBridgeEnvelopeSchema,
  EXPECTED_SHAPE,
} from "./schemas.ts";

/** Which device an event is about: a keyheal device id, or an EC2 instance to look up. */
export type DeviceRef = { deviceId: string } | { instanceId: string; region: string };

/** An event that starts the reconnect workflow. */
export interface ReconnectRequest {
  kind: "reconnect";
  eventType: EventType;
  deviceRef: DeviceRef;
  /** The EventBridge event id; with the device id it names the run (see `runNameFor`). */
  eventId: string;
  /** When the reconnect happened, ISO 8601 UTC: `detail.observedAt`, else the event `time`. */
  occurredAt: string;
  /** `detail.reason` of a Device Reconnected event. */
  reason?: string;
}

/** Why an event starts no run; UNKNOWN_DEVICE is decided by the intake, after parsing. */
export type { IgnoreReason } from "../contract/vocabulary.ts";

/** A valid event that needs no run. */
export interface IgnoredEvent {
  kind: "ignored";
  eventType: EventType;
  eventId: string;
  reason: IgnoreReason;
  /** One line for the log. */
  message: string;
}

export type ParsedEvent = ReconnectRequest | IgnoredEvent;

export interface ParseEventOptions {
  /**
   * Whether keyheal manages the instance. When given and false, the EC2 event is ignored rather
   * than starting a run that would only find no device. Synchronous so parsing stays pure: pass
   * a lookup over what is already known (a set of ids, a tag cache); a slower lookup belongs to
   * the caller, after parsing, on `deviceRef.instanceId`.
   */
  isManagedInstance?: (instanceId: string, region: string) => boolean;
}

/** How many issues one parse collects at most; garbage with a million bad fields stays cheap. */
const MAX_ISSUES = 50;

/** EventBridge events name a handful of resources; the schema allows this many. */
const MAX_RESOURCES = 256;

/**
 * Reads an EventBridge event that may start the reconnect workflow.
 *
 * EC2 state changes to `running` and Device Reconnected events give `kind: "reconnect"`; other
 * EC2 states, and instances `isManagedInstance` rejects, give `kind: "ignored"`.
 *
 * @throws UnknownEventTypeError when `detail-type` is a string keyheal does not handle.
 * @throws InvalidEventError for anything else malformed — any input at all (null, arrays,
 *   strings, wrong fields) ends in one of these two, never in another exception.
 */
export function parseReconnectEvent(raw: unknown, options: ParseEventOptions = {}): ParsedEvent {
  const event = validateEvent(raw);
  if (event["detail-type"] === DETAIL_TYPES.DEVICE_RECONNECTED) {
    const { deviceId, reason, observedAt } = event.detail;
    return {
      kind: "reconnect",
      eventType: "DEVICE_RECONNECTED",
      deviceRef: { deviceId },
      eventId: event.id,
      occurredAt: toUtc(observedAt ?? event.time),
      ...(reason === undefined ? {} : { reason }),
    };
  }
  const instanceId = event.detail["instance-id"];
  const state: Ec2InstanceState = event.detail.state;
  const { region } = event;
  if (state !== "running") {
    return ignored(event.id, "EC2_STATE_NOT_RUNNING", `${instanceId} is ${state}, not running`);
  }
  if (options.isManagedInstance && !options.isManagedInstance(instanceId, region)) {
    return ignored(
      event.id,
      "UNMANAGED_INSTANCE",
      `${instanceId} in ${region} is not a managed device`,
    );
  }
  return {
    kind: "reconnect",
    eventType: "EC2_STATE_CHANGE",
    deviceRef: { instanceId, region },
    eventId: event.id,
    occurredAt: toUtc(event.time),
  };
}

/**
 * Validates an event against the schema of its `detail-type` and returns it typed.
 *
 * @throws UnknownEventTypeError | InvalidEventError, as `parseReconnectEvent`.
 */
export function validateEvent(raw: unknown): Ec2StateChangeEvent | DeviceReconnectedEvent {
  try {
    return validateUnguarded(raw);
  } catch (error) {
    if (error instanceof InvalidEventError) throw error;
    // A throwing getter or a revoked Proxy: still a bad event, not a crash.
    throw new InvalidEventError(
      [{ path: "(event)", problem: "could not be read as plain data" }],
      EXPECTED_SHAPE.ENVELOPE,
      undefined,
      { cause: error },
    );
  }
}

function validateUnguarded(raw: unknown): Ec2StateChangeEvent | DeviceReconnectedEvent {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InvalidEventError(
      [{ path: "(event)", problem: `expected an object, received ${kindOf(raw)}` }],
      EXPECTED_SHAPE.ENVELOPE,
    );
  }
  const record = raw as Record<string, unknown>;
  // zod checks every element before the length, so a giant array would cost a giant error.
  if (Array.isArray(record.resources) && record.resources.length > MAX_RESOURCES) {
    throw new InvalidEventError(
      [{ path: "resources", problem: `must hold at most ${MAX_RESOURCES} entries` }],
      EXPECTED_SHAPE.ENVELOPE,
      typeof record["detail-type"] === "string" ? record["detail-type"] : undefined,
    );
  }
  const detailType = record["detail-type"];
  if (typeof detailType !== "string") {
    const result = EventBridgeEnvelopeSchema.safeParse(raw);
    const issues = result.success ? [] : toIssues(result.error);
    if (!issues.some((issue) => issue.path === "detail-type")) {
      issues.unshift({ path: "detail-type", problem: "must be a string" });
    }
    throw new InvalidEventError(issues, EXPECTED_SHAPE.ENVELOPE);
  }
  const eventType = eventTypeOf(detailType);
  if (eventType === undefined) {
    const source = typeof record.source === "string" ? record.source : undefined;
    throw new UnknownEventTypeError(detailType, source, Object.values(DETAIL_TYPES));
  }
  if (eventType === "EC2_STATE_CHANGE") {
    const result = Ec2StateChangeEventSchema.safeParse(raw);
    if (result.success) return result.data;
    throw new InvalidEventError(
      toIssues(result.error),
      EXPECTED_SHAPE.EC2_STATE_CHANGE,
      detailType,
    );
  }
  const result = DeviceReconnectedEventSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new InvalidEventError(
    toIssues(result.error),
    EXPECTED_SHAPE.DEVICE_RECONNECTED,
    detailType,
  );
}

function ignored(eventId: string, reason: IgnoreReason, message: string): IgnoredEvent {
  return { kind: "ignored", eventType: "EC2_STATE_CHANGE", eventId, reason, message };
}

function toIssues(error: z.ZodError): EventIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: formatPath(issue.path),
    problem: issue.message,
  }));
}

/** `["detail", "instance-id"]` → `detail.instance-id`; `["resources", 2]` → `resources[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(event)";
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value === undefined) return "undefined";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

/** Canonical UTC form; the schema has already checked the string is an ISO date-time. */
function toUtc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString();
}
