/**
 * The EventBridge detail-types keyheal reacts to. Keys are stable identifiers used in code and
 * metrics; values are the exact `detail-type` strings on the wire.
 */
export const DETAIL_TYPES = {
  EC2_STATE_CHANGE: "EC2 Instance State-change Notification",
  DEVICE_RECONNECTED: "Device Reconnected",
} as const;

/** Stable key of an accepted event type (`EC2_STATE_CHANGE`, `DEVICE_RECONNECTED`). */
export type EventType = keyof typeof DETAIL_TYPES;

/** A `detail-type` string keyheal knows. */
export type DetailType = (typeof DETAIL_TYPES)[EventType];

/** Source of keyheal's own custom events (PutEvents, the local `POST /events`). */
export const KEYHEAL_EVENT_SOURCE = "keyheal";

/** Source of EC2's own events; PutEvents refuses `aws.*` sources, so these cannot be forged. */
export const EC2_EVENT_SOURCE = "aws.ec2";

/** The source each detail-type must come from. */
export const SOURCE_OF: Readonly<Record<EventType, string>> = {
  EC2_STATE_CHANGE: EC2_EVENT_SOURCE,
  DEVICE_RECONNECTED: KEYHEAL_EVENT_SOURCE,
};

const BY_DETAIL_TYPE = new Map<string, EventType>(
  (Object.entries(DETAIL_TYPES) as [EventType, DetailType][]).map(([key, value]) => [value, key]),
);

/** The event type for a `detail-type` string, or `undefined` when keyheal does not handle it. */
export function eventTypeOf(detailType: string): EventType | undefined {
  return BY_DETAIL_TYPE.get(detailType);
}
