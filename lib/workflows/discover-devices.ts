import type { CloudInventory, DiscoveryOptions, DiscoveryTag } from "../cloud/types.ts";
import type { DeviceStore } from "../devices/types.ts";

export interface DiscoveryReport {
  registered: string[];
  skipped: Array<{ instanceId: string; reason: string }>;
}

/**
 * Registers every EC2 instance carrying the managed tag as a device (id = instance id), so an
 * EC2 fleet needs no inventory file. Known devices keep their status and pinned host key.
 */
export async function discoverDevices(
  deps: { devices: DeviceStore; cloud: CloudInventory },
  tag: DiscoveryTag,
  options: Omit<DiscoveryOptions, "onSkipped">,
): Promise<DiscoveryReport> {
  const skipped: DiscoveryReport["skipped"] = [];
  const found = await deps.cloud.discoverManaged(tag, {
    ...options,
    onSkipped: (instanceId, reason) => skipped.push({ instanceId, reason }),
  });
  const registered: string[] = [];
  for (const registration of found) {
    await deps.devices.register(registration);
    registered.push(registration.id);
  }
  return { registered, skipped };
}
