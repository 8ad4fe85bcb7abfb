import { classify } from "../failures/classify.ts";
import { OperationFailedError } from "../failures/errors.ts";
import { openSession, type SshTimeouts } from "../ssh/session.ts";
import { type DeviceTarget, type Generation, generationCredentials } from "./heal-device.ts";

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
 * Learns which platform key generation a device holds, on one connection: the generations are
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
  let session: Awaited<ReturnType<typeof openSession>>;
  try {
    session = await openSession({
      host: device.host,
      port: device.port,
      username: device.adminUser,
      hostKeyFingerprint: device.hostKeyFingerprint,
      credentials: generationCredentials(generations),
      timeouts: options.timeouts,
      signal: options.signal,
    });
  } catch (error) {
    throw new OperationFailedError(classify(error, "handshake"), "handshake", "DETECT", {
      cause: error,
    });
  }
  session.close();
  const held = generations[session.credentialIndex];
  if (!held) throw new Error("ssh2 reported a credential that was never offered");
  return {
    deviceId: device.id,
    outcome: held.generation === generations[0]?.generation ? "KEY_BASED" : "KEY_CONFLICT",
    generation: held.generation,
    hostKeyFingerprint: session.hostKeyFingerprint,
    pinnedOnFirstContact: session.pinnedOnFirstContact,
  };
}
