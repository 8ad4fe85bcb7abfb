import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { healUnderLease } from "./replace.ts";

export interface DetectInput {
  deviceId: string;
  /** "ec2" when an instance just entered running: an unready sshd is waited for. */
  trigger?: string;
  /** The run holding the lease; Detect's record of the proven generation is fenced by it. */
  owner?: string | null;
}

/** What Detect found, and what it did about it on the same connection. */
export interface Detection {
  deviceId: string;
  /**
   * KEY_BASED: the device held the current generation (older lines pruned, if any). HEALED: it
   * held an earlier one (a key conflict) and now holds the current one, proven.
   */
  outcome: "KEY_BASED" | "HEALED";
  /** The generation the device holds now. */
  generation: number | null;
  /** The generation it accepted on the first connection. */
  heldGeneration: number | null;
  hostKeyFingerprint: string;
  pinnedOnFirstContact: boolean;
  changed: boolean;
  prunedLines: number;
  handshakes: number;
}

/**
 * One connection, generations newest first: which key does the device hold? A device on an
 * earlier generation (a key conflict) is healed on that same connection by the replacement
 * protocol (docs/protocol.md), so a reconnect costs no handshake more than the heal itself. What
 * the device holds at the end is recorded as proven, since retirement keeps every generation a
 * device may hold.
 */
export async function detect(deps: WorkflowDeps, input: DetectInput): Promise<Detection> {
  try {
    const { device, generations, result: healed } = await healUnderLease(deps, input, "DETECT");
    const conflict = healed.heldGeneration !== generations[0]?.generation;
    await deps.devices.update(
      device.id,
      {
        keyGeneration: healed.generation,
        keyProvenAt: deps.now().toISOString(),
        ...(healed.pinnedOnFirstContact ? { hostKeyFingerprint: healed.hostKeyFingerprint } : {}),
      },
      input.owner ? { leaseOwner: input.owner } : undefined,
    );
    if (conflict) deps.metrics.addMetric("ConflictsDetected", "Count", 1);
    const detection: Detection = {
      deviceId: device.id,
      outcome: conflict ? "HEALED" : "KEY_BASED",
      generation: healed.generation,
      heldGeneration: healed.heldGeneration,
      hostKeyFingerprint: healed.hostKeyFingerprint,
      pinnedOnFirstContact: healed.pinnedOnFirstContact,
      changed: healed.changed,
      prunedLines: healed.prunedLines,
      handshakes: healed.handshakes,
    };
    deps.logger.info("detected", { ...detection, fingerprint: generations[0]?.key.fingerprint });
    return detection;
  } catch (error) {
    throw toTaskError(error, "DETECT", input.trigger === "ec2");
  }
}
