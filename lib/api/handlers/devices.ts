import type { AnswerOf } from "../../contract/api.ts";
import { AUTH_STATUSES, type DeviceRegistration, type DeviceStore } from "../../devices/types.ts";
import {
  DeviceStatsQuery,
  ListDevicesQuery,
  parseRegistrations,
  parseRequest,
} from "../schemas.ts";
import type { ApiHandler } from "../types.ts";
import { deviceView, pageView } from "../views.ts";

/**
 * `GET /devices?q=&status=&cursor=&limit=`: sorted by id; `q` finds devices whose id, host or
 * admin user starts with it; `status` narrows to one auth status. Every form is served by an
 * index (lib/store/tables.ts), never a scan.
 */
export const listDevices: ApiHandler = async (ctx, { query }) => {
  const { q, ...rest } = parseRequest(ListDevicesQuery, query, "(query)");
  const page = await ctx.deps.devices.list({
    ...rest,
    ...(q === undefined ? {} : { search: q }),
    sorted: true,
  });
  return { status: 200, body: pageView(page, deviceView) };
};

/** `GET /devices/stats`: how many devices hold each auth status (every status, zeros too). */
export const deviceStats: ApiHandler = async (ctx, { query }) => {
  parseRequest(DeviceStatsQuery, query, "(query)");
  const counts = await ctx.deps.devices.countByStatus();
  const items = AUTH_STATUSES.map((status) => ({ status, count: counts[status] ?? 0 }));
  const body = {
    total: items.reduce((sum, item) => sum + item.count, 0),
    items,
  } satisfies AnswerOf<"GET /devices/stats">;
  return { status: 200, body };
};

/**
 * `POST /devices`: registers one device, or `{ devices: [...] }`. A known device keeps its
 * status, generation and history; its address fields follow the registration. 200 with
 * `{ items }`, the devices as stored.
 */
export const registerDevices: ApiHandler = async (ctx, { body }) => {
  const devices = parseRegistrations(body);
  const stored = await registerAll(ctx.deps.devices, devices);
  ctx.deps.logger.info("devices registered", { count: stored.length });
  return {
    status: 200,
    body: { items: stored.map(deviceView) } satisfies AnswerOf<"POST /devices">,
  };
};

/** A few writes at a time: an inventory of thousands should not open thousands of requests. */
export async function registerAll(store: DeviceStore, devices: readonly DeviceRegistration[]) {
  const out = new Array<Awaited<ReturnType<DeviceStore["register"]>>>(devices.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < devices.length; i = next++) {
      out[i] = await store.register(devices[i] as DeviceRegistration);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, devices.length) }, worker));
  return out;
}
