import { OperationFailedError } from "../failures/errors.ts";
import type { SshTimeouts } from "../ssh/types.ts";
import { classify } from "./classify.ts";
import { connectWithGenerations, type Generation } from "./connect.ts";
import type { DeviceTarget } from "./heal-device.ts";

export interface Detection {
  deviceId: string;
  /** KEY_BASED: holds the current generation. KEY_CONFLICT: holds an earlier one. */
  outcome: "KEY_BASED" | "KEY_CONFLICT";
  /** The generation the device accepted. */
  generation: number;
  hostKeyFingerprint: string;
  pinnedOnFirstContact: boolean;
}

/**
 * Learns which platform key generation a device holds, on one connection per five generations,
 * offered newest first. Failures (refused key, host-key mismatch, unreachable) are thrown as
 * {@link OperationFailedError} with their cause.
 */
export async function detectKey(options: {
  device: DeviceTarget;
  generations: Generation[];
  timeouts?: Partial<SshTimeouts>;
  signal?: AbortSignal;
}): Promise<Detection> {
  const { device, generations } = options;
  let found: Awaited<ReturnType<typeof connectWithGenerations>>;
  try {
    found = await connectWithGenerations(
      {
        host: device.host,
        port: device.port,
        username: device.adminUser,
        hostKeyFingerprint: device.hostKeyFingerprint,
      },
      generations,
      options,
    );
  } catch (error) {
    throw new OperationFailedError(classify(error, "handshake"), "handshake", "DETECT", {
      cause: error,
    });
  }
  const { session, held } = found;
  const current = held.generation === generations[0]?.generation;
  session.close();
  return {
    deviceId: device.id,
    outcome: current ? "KEY_BASED" : "KEY_CONFLICT",
    generation: held.generation,
    hostKeyFingerprint: session.hostKeyFingerprint,
    pinnedOnFirstContact: session.pinnedOnFirstContact,
  };
}
