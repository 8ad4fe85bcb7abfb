import type { DeviceView, RunView } from "../../lib/api/views.ts";
import type { TestDevice } from "./fleet.ts";
import { eventually, type RuntimeProcess } from "./local-runtime.ts";

export type List<T> = { items: T[]; nextCursor: string | null };

/** A test device as `POST /devices` registers it: its own user as admin, its host key pinned. */
export function registration(d: TestDevice) {
  return {
    id: d.id,
    host: d.host,
    port: d.port,
    adminUser: d.user,
    hostKeyFingerprint: d.hostKeyFingerprint,
  };
}

/** One device as the runtime lists it. */
export async function deviceOf(
  runtime: RuntimeProcess,
  id: string,
): Promise<DeviceView | undefined> {
  const { body } = await runtime.api<List<DeviceView>>("GET", "/devices?limit=1000");
  return body.items.find((d) => d.id === id);
}

/** The run once it has ended. */
export function endedRunOf(runtime: RuntimeProcess, runId: string): Promise<RunView> {
  return eventually(`run ${runId} to end`, async () => {
    const { body } = await runtime.api<RunView>("GET", `/runs/${encodeURIComponent(runId)}`);
    return body.status !== "RUNNING" && body;
  });
}
