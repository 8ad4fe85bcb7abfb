import { expect } from "vitest";
import { OperationFailedError } from "../../lib/failures/errors.ts";
import type { Generation } from "../../lib/replace/connect.ts";
import { openSession } from "../../lib/ssh/connect.ts";
import { AuthRejectedError } from "../../lib/ssh/errors.ts";
import type { TestDevice } from "./fleet.ts";

/** Whether the device's sshd lets `user` (default: the device's user) in with this generation. */
export async function logsInWith(
  device: TestDevice,
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
