import type { DeviceView, RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { freePort, REFUSING_HOST, type TestDevice } from "./fleet.ts";
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

/**
 * Three failure records, after clearing the old ones: `ghost-a` and `ghost-b` refuse connections
 * (CONNECTION_REFUSED), `impostor` is `real`'s sshd pinned to another host key
 * (HOST_KEY_MISMATCH). Each is reconnected once and its run ends FAILED.
 */
export async function recordThreeFailures(runtime: RuntimeProcess, real: TestDevice) {
  await runtime.api("DELETE", "/failures");
  await runtime.api("POST", "/devices", {
    devices: [
      { id: "ghost-a", host: REFUSING_HOST, port: await freePort(), adminUser: "root" },
      { id: "ghost-b", host: REFUSING_HOST, port: await freePort(), adminUser: "root" },
      { ...registration(real), id: "impostor", hostKeyFingerprint: `SHA256:${"A".repeat(43)}` },
    ],
  });
  for (const id of ["ghost-a", "ghost-b", "impostor"]) {
    const { body } = await runtime.api<{ runId: string }>(
      "POST",
      "/events",
      deviceReconnectedEvent({ deviceId: id }),
    );
    const run = await endedRunOf(runtime, body.runId);
    if (run.status !== "FAILED")
      throw new Error(`the run of ${id} ended ${run.status}, not FAILED`);
  }
}
