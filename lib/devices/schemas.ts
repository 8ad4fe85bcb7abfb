import * as z from "zod";
import { DeviceIdSchema, typeError, UsernameSchema } from "../contract/requests.ts";
import { InstanceIdSchema } from "../events/schemas.ts";
import type { DeviceRegistration } from "./types.ts";

/** A host name, IPv4 or IPv6 address: no spaces, no URL, no user@. */
export const HostSchema = z
  .string({ error: typeError("must be a host name or IP address string") })
  .min(1, { error: "must not be empty" })
  .max(253, { error: "must be at most 253 characters" })
  .regex(/^[A-Za-z0-9._:%-]+$/, {
    error: "must be a host name or IP address (no scheme, user@ or port)",
  });

export const PortSchema = z
  .number({ error: "must be a port number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be from 1 to 65535" })
  .max(65_535, { error: "must be from 1 to 65535" });

/** `SHA256:` and 43 unpadded base64 characters, exactly as `ssh-keygen -lf` prints it. */
export const HostKeyFingerprintSchema = z
  .string({ error: "must be a fingerprint string" })
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
    error: "must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256:…, 43 characters)",
  });

export const RegionSchema = z
  .string({ error: "must be a region name string" })
  .regex(/^[a-z0-9-]{1,64}$/, { error: "must be a region name such as eu-west-1" });

/** Relative to the admin user's home, or absolute; one line, no NUL. */
export const AuthorizedKeysPathSchema = z
  .string({ error: "must be a path string" })
  .min(1, { error: "must not be empty" })
  .max(4096, { error: "must be at most 4096 characters" })
  .regex(/^[^\0\r\n]+$/, { error: "must be a single-line path" });

/**
 * One device of an inventory file or a `POST /devices` body (docs/architecture.md, Contracts). Unknown fields are
 * refused, so a typo such as `adminuser` is named instead of silently dropped. `port` defaults
 * to 22.
 */
export const DeviceRegistrationSchema = z.strictObject({
  id: z.string({ error: typeError("must be a device id string") }).pipe(DeviceIdSchema),
  host: HostSchema,
  port: PortSchema.default(22),
  adminUser: UsernameSchema,
  instanceId: InstanceIdSchema.optional(),
  region: RegionSchema.optional(),
  hostKeyFingerprint: HostKeyFingerprintSchema.optional(),
  authorizedKeysPath: AuthorizedKeysPathSchema.optional(),
}) satisfies z.ZodType<DeviceRegistration, unknown>;

/** A list of registrations whose ids are unique; the duplicate is named by its index. */
export function uniqueDevices<T extends z.ZodType<DeviceRegistration[]>>(list: T) {
  return list.superRefine((devices, ctx) => {
    const seen = new Map<string, number>();
    devices.forEach((device, index) => {
      const first = seen.get(device.id);
      if (first === undefined) seen.set(device.id, index);
      else {
        ctx.addIssue({
          code: "custom",
          path: [index, "id"],
          message: `duplicates the id of entry ${first} (${JSON.stringify(device.id)})`,
        });
      }
    });
  });
}
