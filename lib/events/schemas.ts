import * as z from "zod";
import { DeviceIdSchema } from "../contract/requests.ts";
import { DETAIL_TYPES, EC2_EVENT_SOURCE, KEYHEAL_EVENT_SOURCE } from "./detail-types.ts";

export { DeviceIdSchema };

/** ISO 8601 date-time with `Z` or an offset, as EventBridge writes `time`. */
const IsoDateTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time such as 2025-01-31T12:00:00Z",
});

/** `i-` and 8 to 17 lower-case hex digits (the old short and the current long form). */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;

/** An EC2 instance id. */
export const InstanceIdSchema = z
  .string({ error: "must be an EC2 instance id string" })
  .regex(INSTANCE_ID_PATTERN, { error: "must be an EC2 instance id: i- and 8 to 17 hex digits" });

/** The instance states EC2 reports in a state-change notification. */
export const EC2_INSTANCE_STATES = [
  "pending",
  "running",
  "stopping",
  "stopped",
  "shutting-down",
  "terminated",
] as const;
export const Ec2InstanceStateSchema = z.enum(EC2_INSTANCE_STATES);
export type Ec2InstanceState = z.infer<typeof Ec2InstanceStateSchema>;

/**
 * Fields every EventBridge event carries. Unknown top-level fields (`replay-name`, for one) are
 * dropped, not refused, so a future EventBridge addition does not stop intake.
 */
const envelopeShape = {
  version: z.string().min(1).max(16),
  id: z.string().min(1, { error: "must not be empty" }).max(256),
  "detail-type": z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  account: z.string().min(1).max(64),
  time: IsoDateTime,
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, { error: "must be a region name such as eu-west-1" }),
  resources: z.array(z.string().max(2048)).max(256, { error: "must hold at most 256 entries" }),
  detail: z.looseObject({}),
};

/** Any EventBridge event: the envelope, with `detail` an object of unchecked content. */
export const EventBridgeEnvelopeSchema = z.object(envelopeShape);

/** EC2 "EC2 Instance State-change Notification" (source `aws.ec2`). */
export const Ec2StateChangeEventSchema = z.object({
  ...envelopeShape,
  "detail-type": z.literal(DETAIL_TYPES.EC2_STATE_CHANGE),
  source: z.literal(EC2_EVENT_SOURCE),
  detail: z.object({
    "instance-id": InstanceIdSchema,
    state: Ec2InstanceStateSchema,
  }),
});
export type Ec2StateChangeEvent = z.infer<typeof Ec2StateChangeEventSchema>;

/** keyheal's custom "Device Reconnected" (source `keyheal`): a device is back, check its key. */
export const DeviceReconnectedEventSchema = z.object({
  ...envelopeShape,
  "detail-type": z.literal(DETAIL_TYPES.DEVICE_RECONNECTED),
  source: z.literal(KEYHEAL_EVENT_SOURCE),
  detail: z.object({
    deviceId: DeviceIdSchema,
    reason: z.string().max(1024).optional(),
    observedAt: IsoDateTime.optional(),
  }),
});
export type DeviceReconnectedEvent = z.infer<typeof DeviceReconnectedEventSchema>;

/** The expected shape of each event, for error messages. */
export const EXPECTED_SHAPE = {
  ENVELOPE:
    'an EventBridge event object { version, id, "detail-type", source, account, time, region, resources: string[], detail: {…} }',
  EC2_STATE_CHANGE: `{ version, id, "detail-type": "${DETAIL_TYPES.EC2_STATE_CHANGE}", source: "${EC2_EVENT_SOURCE}", account, time, region, resources, detail: { "instance-id": "i-0123456789abcdef0", state: ${EC2_INSTANCE_STATES.map((s) => `"${s}"`).join(" | ")} } }`,
  DEVICE_RECONNECTED: `{ version, id, "detail-type": "${DETAIL_TYPES.DEVICE_RECONNECTED}", source: "${KEYHEAL_EVENT_SOURCE}", account, time, region, resources, detail: { deviceId: [A-Za-z0-9._:-]{1,128}, reason?: string, observedAt?: ISO date-time } }`,
} as const;
