import { expect } from "vitest";
import { OperationFailedError } from "../../lib/failures/errors.ts";
import type { Generation } from "../../lib/replace/connect.ts";
import type { DeviceTarget } from "../../lib/replace/heal-device.ts";
import { openSession } from "../../lib/ssh/connect.ts";
import { AuthRejectedError } from "../../lib/ssh/errors.ts";

/** Where a device answers: a real sshd (fleet.ts) or the in-process ssh2 device (simulated.ts). */
export interface LoginAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKeyFingerprint: string;
}

/** The engine's view of a test device: its address, its user as admin, its host key pinned. */
export function targetOf(
  device: LoginAddress & { readonly id: string },
  overrides: Partial<DeviceTarget> = {},
): DeviceTarget {
  return {
    id: device.id,
    host: device.host,
    port: device.port,
    adminUser: device.user,
    hostKeyFingerprint: device.hostKeyFingerprint,
    ...overrides,
  };
}

/** Whether the device lets `user` (default: the device's user) in with this generation. */
export async function logsInWith(
  device: LoginAddress,
  gen: Generation,
  user = device.user,
): Promise<boolean> {
  try {
    const session = await openSession({
      host: device.host,
      port: device.port,
      username: user,
      hostKeyFingerprint: device.hostKeyFingerprint,
      credentials: [
        {
          kind: "publickey",
          label: "probe",
          fingerprint: gen.key.fingerprint,
          privateKey: gen.key.privateKey,
        },
      ],
    });
    session.close();
    return true;
  } catch (error) {
    if (error instanceof AuthRejectedError) return false;
    throw error;
  }
}

/** The OperationFailedError a heal or detection ended with (the test fails if it did not). */
export async function failureOf(promise: Promise<unknown>): Promise<OperationFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationFailedError);
  return error as OperationFailedError;
}
