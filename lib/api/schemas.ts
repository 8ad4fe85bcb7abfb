/**
 * Request bodies and query strings of the ops API (docs/architecture.md, Contracts), as zod schemas. The same schemas
 * check requests locally and behind API Gateway; the bodies that clients build are the
 * contract's (lib/contract/requests.ts). Unknown fields are refused, so a typo is named
 * rather than ignored.
 *
 * @module
 */
import * as z from "zod";
import { DeviceIdSchema, MAX_DEVICES_PER_REQUEST, typeError } from "../contract/requests.ts";
import { AUTH_STATUSES, CAUSE_NAMES, OPERATIONS } from "../contract/vocabulary.ts";
import { DeviceRegistrationSchema, uniqueDevices } from "../devices/schemas.ts";
import { MAX_PAGE_SIZE } from "../store/dynamo-util.ts";
import { issuesOf } from "../validation/issues.ts";
import { INSTANT_EXAMPLES, parseInstant } from "../validation/time.ts";
import { BadRequestError } from "./errors.ts";

export {
  ImportKeyBody,
  MAX_DEVICES_PER_REQUEST,
  MAX_ROTATE_CONCURRENCY,
  ResolveBody,
  type ResolveRequest,
  RotateBody,
} from "../contract/requests.ts";

const Limit = z.coerce
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: `must be from 1 to ${MAX_PAGE_SIZE}` })
  .max(MAX_PAGE_SIZE, { error: `must be from 1 to ${MAX_PAGE_SIZE}` });
const Cursor = z.string().min(1, { error: "must not be empty" }).max(4096);
const Page = { cursor: Cursor.optional(), limit: Limit.optional() };

const DeviceId = z.string({ error: typeError("must be a device id string") }).pipe(DeviceIdSchema);

/**
 * `q`: the start of a device id, host or admin user. The characters of those three, so it can
 * never reach into the `#` that joins a search key to its id (lib/store/tables.ts).
 */
const DeviceSearch = z
  .string()
  .min(1, { error: "must not be empty: leave q out to list every device" })
  .max(128, { error: "must be at most 128 characters" })
  .regex(/^[A-Za-z0-9._:@-]+$/, {
    error:
      "must be the start of a device id, host or admin user: letters, digits and . _ : @ - only",
  });

export const ListDevicesQuery = z.strictObject({
  status: z.enum(AUTH_STATUSES, { error: `must be one of ${AUTH_STATUSES.join(", ")}` }).optional(),
  q: DeviceSearch.optional(),
  ...Page,
});

/** `GET /devices/stats` takes no parameters; an unknown one is named rather than ignored. */
export const DeviceStatsQuery = z.strictObject({});

const Registrations = uniqueDevices(
  z
    .array(DeviceRegistrationSchema, { error: "must be a list of devices" })
    .min(1, { error: "must name at least one device" })
    .max(MAX_DEVICES_PER_REQUEST, {
      error: `must hold at most ${MAX_DEVICES_PER_REQUEST} devices`,
    }),
);

/** `{ devices: [...] }`. */
export const RegisterDevicesBody = z.strictObject({ devices: Registrations });

/**
 * A `POST /devices` body: `{ devices: [...] }`, or one device on its own. Told apart by the
 * `devices` field, so errors name the fields of the form that was meant.
 */
export function parseRegistrations(body: unknown) {
  const many = typeof body === "object" && body !== null && "devices" in body;
  return many
    ? parseRequest(RegisterDevicesBody, body, "(body)").devices
    : [parseRequest(DeviceRegistrationSchema, body, "(body)")];
}

export const ListKeysQuery = z.strictObject(Page);

/** An instant in the grammar of `lib/validation/time.ts`; a span is back from `now`. */
const instant = (now: () => Date) =>
  z.string().transform((value, ctx) => {
    const parsed = parseInstant(value, now());
    if (parsed !== undefined) return parsed;
    ctx.addIssue({ code: "custom", message: `must be ${INSTANT_EXAMPLES}` });
    return z.NEVER;
  });

const failureFilter = (now: () => Date) => ({
  deviceId: DeviceId.optional(),
  operation: z.enum(OPERATIONS, { error: `must be one of ${OPERATIONS.join(", ")}` }).optional(),
  cause: z
    .enum(CAUSE_NAMES, {
      error: "must be a failure cause such as AUTH_REJECTED",
    })
    .optional(),
  since: instant(now).optional(),
  until: instant(now).optional(),
});

function sinceBeforeUntil(
  value: { since?: string | undefined; until?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (value.since !== undefined && value.until !== undefined && value.since > value.until) {
    ctx.addIssue({ code: "custom", path: ["since"], message: "must not be after until" });
  }
}

/** `GET /failures`; `since`/`until` relative to `now` when given as spans. */
export const listFailuresQuery = (now: () => Date) =>
  z.strictObject({ ...failureFilter(now), ...Page }).superRefine(sinceBeforeUntil);

/** Records one `DELETE /failures?limit=` call deletes at most. */
export const MAX_DELETE_BATCH = 1000;

/**
 * `DELETE /failures`: the list's filters; no filter at all deletes every record. With `limit`,
 * at most that many, so a client can show progress over a large delete.
 */
export const deleteFailuresQuery = (now: () => Date) =>
  z
    .strictObject({
      ...failureFilter(now),
      limit: z.coerce
        .number({ error: "must be a number" })
        .int({ error: "must be a whole number" })
        .min(1, { error: `must be from 1 to ${MAX_DELETE_BATCH}` })
        .max(MAX_DELETE_BATCH, { error: `must be from 1 to ${MAX_DELETE_BATCH}` })
        .optional(),
    })
    .superRefine(sinceBeforeUntil);

/** `GET /failures/stats`: counts by cause over a time range, for one device or all. */
export const failureStatsQuery = (now: () => Date) =>
  z
    .strictObject({
      deviceId: DeviceId.optional(),
      since: instant(now).optional(),
      until: instant(now).optional(),
    })
    .superRefine(sinceBeforeUntil);

/** The body of `POST /events` is checked by the event parser itself (see `intakeEvent`). */

/**
 * Parses `input` with `schema`.
 *
 * @param root what the input is, for an issue about all of it: `(body)` or `(query)`.
 * @throws BadRequestError naming the first bad field, with every issue attached.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesOf(result.error, root);
  const first = issues[0] ?? { path: root, problem: "is invalid" };
  const message = issues.map((issue) => `${issue.path}: ${issue.problem}`).join("; ");
  throw new BadRequestError(first.path, `Invalid request: ${message}.`, issues);
}
