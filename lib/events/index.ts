export { type DeviceReconnectedInput, deviceReconnectedEvent } from "./build.ts";
export {
  DETAIL_TYPES,
  type DetailType,
  EC2_EVENT_SOURCE,
  type EventType,
  eventTypeOf,
  KEYHEAL_EVENT_SOURCE,
  SOURCE_OF,
} from "./detail-types.ts";
export { EventError, type EventIssue, InvalidEventError, UnknownEventTypeError } from "./errors.ts";
export {
  type IntakeMetric,
  type IntakeOutcome,
  type IntakeSnapshot,
  IntakeStats,
  type OutcomeCounts,
  type RejectReason,
  rejectReasonOf,
} from "./intake-stats.ts";
export {
  type DeviceRef,
  formatPath,
  type IgnoredEvent,
  type IgnoreReason,
  type ParsedEvent,
  type ParseEventOptions,
  parseReconnectEvent,
  type ReconnectRequest,
  validateEvent,
} from "./parse-event.ts";
export { RUN_NAME_MAX_LENGTH, runNameFor } from "./run-name.ts";
export * from "./schemas.ts";
