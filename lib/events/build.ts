import { randomUUID } from "node:crypto";
import { DETAIL_TYPES, KEYHEAL_EVENT_SOURCE } from "./detail-types.ts";
import { type DeviceReconnectedEvent, DeviceReconnectedEventSchema } from "./schemas.ts";

export interface DeviceReconnectedInput {
  deviceId: string;
  reason?: string;
  observedAt?: string;
  /** Event id; a fresh UUID when absent. Give the same id twice and only one run starts. */
  id?: string;
  /** Event time; now when absent. */
  time?: string;
  account?: string;
  region?: string;
}

/**
 * A Device Reconnected event, as `keyheal events reconnect` and the local runtime's probe send
 * it, checked by the same schema intake uses.
 *
 * @throws ZodError when the input makes an invalid event (a device id with spaces, say).
 */
export function deviceReconnectedEvent(input: DeviceReconnectedInput): DeviceReconnectedEvent {
  return DeviceReconnectedEventSchema.parse({
    version: "0",
    id: input.id ?? randomUUID(),
    "detail-type": DETAIL_TYPES.DEVICE_RECONNECTED,
    source: KEYHEAL_EVENT_SOURCE,
    account: input.account ?? "local",
    time: input.time ?? new Date().toISOString(),
    region: input.region ?? "local",
    resources: [],
    detail: {
      deviceId: input.deviceId,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.observedAt === undefined ? {} : { observedAt: input.observedAt }),
    },
  });
}
