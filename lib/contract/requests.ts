/**
 * The ops API's request bodies as zod schemas: one home for what the API checks, the CLI sends
 * and the console's forms build (docs/architecture.md, Contracts). Unknown fields are refused, so
 * a typo is named rather than ignored. Imports only zod and the names beside it; the console
 * imports the types alone (`import type`).
 *
 * @module
 */
import * as z from "zod";
import { DEVICE_ID_PATTERN, KEY_TYPES, USERNAME_PATTERN } from "./vocabulary.ts";

/** "is required" for a missing field, else `message`: zod's type error for both by default. */
export function typeError(message: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : message);
}

/** A keyheal device id: 1 to 128 characters of `[A-Za-z0-9._:-]`. */
export const DeviceIdSchema = z
  .string({ error: "must be a device id string" })
  .min(1, { error: "must not be empty" })
  .max(128, { error: "must be at most 128 characters" })
  .regex(DEVICE_ID_PATTERN, {
    error: "may hold only letters, digits and . _ : - (no spaces or other characters)",
  });

export const UsernameSchema = z
  .string({ error: typeError("must be a user name string") })
  .regex(USERNAME_PATTERN, {
    error: "must be a user name: a lower-case letter or _, then up to 31 of a-z 0-9 _ -",
  });

/** Devices one `POST /devices` or `POST /devices/resolve` may name. */
export const MAX_DEVICES_PER_REQUEST = 1000;

const DeviceId = z.string({ error: typeError("must be a device id string") }).pipe(DeviceIdSchema);

const Secret = (what: string) =>
  z
    .string({ error: typeError(`must be a ${what} string`) })
    .min(1, { error: "must not be empty" })
    .max(65_536, { error: "must be at most 65536 characters" });

const ResolveTargets = <T extends z.ZodType<{ id: string }>>(item: T) =>
  z
    .array(item, { error: "must be a list of { id, adminUser }" })
    .min(1, { error: "must name at least one device" })
    .max(MAX_DEVICES_PER_REQUEST, {
      error: `must hold at most ${MAX_DEVICES_PER_REQUEST} devices`,
    })
    .superRefine((devices, ctx) => {
      const seen = new Set<string>();
      devices.forEach((device, index) => {
        if (seen.has(device.id)) {
          ctx.addIssue({ code: "custom", path: [index, "id"], message: "is named twice" });
        }
        seen.add(device.id);
      });
    });

/** Each device needs `field` of its own or the request's; an issue per device that has neither. */
function secretPerDevice<T extends { devices: Array<Record<string, unknown>> }>(
  field: string,
  what: string,
) {
  return (request: T, ctx: z.RefinementCtx) => {
    if ((request as Record<string, unknown>)[field] !== undefined) return;
    request.devices.forEach((device, index) => {
      if (device[field] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["devices", index, field],
          message: `needs ${what}: give one for this device, or one for all at the top level`,
        });
      }
    });
  };
}

/**
 * `POST /devices/resolve`: the Junos "Resolve Key Conflict" action. Space key: the admin
 * password (and, to create a missing admin user, a `loginUser` that is root or may sudo).
 * Custom key: the operator's private key, its passphrase, and whether to adopt it as the
 * device's credential instead of installing the platform key. As in Junos, each device may carry
 * its own admin user and its own password or key; a top-level one serves every device without.
 */
export const ResolveBody = z.discriminatedUnion(
  "mode",
  [
    z
      .strictObject({
        mode: z.literal("space-key"),
        devices: ResolveTargets(
          z.strictObject({
            id: DeviceId,
            adminUser: UsernameSchema,
            loginUser: UsernameSchema.optional(),
            password: Secret("password").optional(),
          }),
        ),
        password: Secret("password").optional(),
      })
      .superRefine(secretPerDevice("password", "a password")),
    z
      .strictObject({
        mode: z.literal("custom-key"),
        devices: ResolveTargets(
          z.strictObject({
            id: DeviceId,
            adminUser: UsernameSchema,
            privateKey: Secret("private key").optional(),
            passphrase: Secret("passphrase").optional(),
          }),
        ),
        privateKey: Secret("private key").optional(),
        passphrase: Secret("passphrase").optional(),
        adopt: z.boolean({ error: "must be true or false" }).optional(),
      })
      .superRefine(secretPerDevice("privateKey", "a private key")),
  ],
  { error: 'must be "space-key" or "custom-key"' },
);
export type ResolveRequest = z.infer<typeof ResolveBody>;

/** `POST /keys/import`. */
export const ImportKeyBody = z.strictObject({
  privateKey: Secret("private key"),
  passphrase: z.string({ error: "must be a passphrase string" }).max(1024).optional(),
});
export type ImportKeyRequest = z.infer<typeof ImportKeyBody>;

/** Step Functions runs at most 10,000 Distributed Map children at once. */
export const MAX_ROTATE_CONCURRENCY = 10_000;

/** `POST /keys/rotate`. */
export const RotateBody = z.strictObject({
  type: z.enum(KEY_TYPES, { error: `must be one of ${KEY_TYPES.join(", ")}` }).optional(),
  /** Devices installed at once. */
  concurrency: z
    .int({ error: "must be a whole number of devices" })
    .min(1, { error: "must be at least 1" })
    .max(MAX_ROTATE_CONCURRENCY, { error: `must be at most ${MAX_ROTATE_CONCURRENCY}` })
    .optional(),
  /** Devices installed first, alone; the rotation stops if one fails. 0 skips the canary. */
  canary: z
    .int({ error: "must be a whole number of devices" })
    .min(0, { error: "must be 0 or more" })
    .max(100, { error: "must be at most 100" })
    .optional(),
  /** Of the other devices, the percentage that may fail before the fan-out stops. */
  toleratedFailurePercentage: z
    .number({ error: "must be a number from 0 to 100" })
    .min(0, { error: "must be 0 or more" })
    .max(100, { error: "must be at most 100" })
    .optional(),
});
export type RotateRequest = z.infer<typeof RotateBody>;
