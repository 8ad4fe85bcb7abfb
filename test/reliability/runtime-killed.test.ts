/**
 * The runtime killed (SIGKILL) with a heal in flight and started again on the same data
 * directory: the interrupted run ends FAILED as interrupted, its lease is released, the device
 * is checked again on its own and converges to KEY_BASED; the file was never torn and a key
 * keyheal holds was in it all along; no private key is left outside the key store. Then the
 * workflow's own steps: killed just after the lease is taken, after the device is marked
 * healed, and after a failure is recorded (the fault matrix's "keyheal killed" column covers
 * the protocol's steps).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceView, FailureView, RunView } from "../../lib/contract/api.ts";
import { deviceReconnectedEvent } from "../../lib/events/build.ts";
import { generateKeyPair } from "../../lib/keys/index.ts";
import { type Fleet, startFleet, type TestDevice } from "../harness/fleet.ts";
import { eventually, type RuntimeProcess, startRuntimeProcess } from "../harness/local-runtime.ts";
import { deviceOf, type List, registration } from "../harness/runtime-api.ts";
import { alive, runtimeLeftovers, secretHits, tableItems } from "./harness.ts";

const MAIN = new URL("./runtime-main.ts", import.meta.url).pathname;
const gen1 = generateKeyPair({ comment: "killed-gen1" });
const gen2 = generateKeyPair({ comment: "killed-gen2" });
const KEPT = "# kept: a line keyheal does not manage\n";
const ORIGINAL = `${KEPT}${gen1.authorizedKey}\n`;
const HEALED = `${KEPT}${gen2.authorizedKey}\n`;

/** The workflow steps the runtime is killed after: the Task state, and whether its device is down. */
const KILL_POINTS = [
  { step: "lease", state: "AcquireLease", down: false },
  { step: "mark status", state: "MarkHealed", down: false },
  { step: "record failure", state: "RecordFailure", down: true },
] as const;

let work: string;
let fleet: Fleet;
let device: TestDevice;
let runtime: RuntimeProcess | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keyheal-killed-"));
  fleet = await startFleet(1 + KILL_POINTS.length);
  device = fleet.devices[0] as TestDevice;
  await device.resetHome(ORIGINAL);
});

afterAll(async () => {
  await runtime?.stop();
  await fleet?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the runtime killed with SIGKILL and restarted", () => {
  it("with a heal in flight: no torn file, the run ends interrupted, the lease is released, the device converges", async () => {
    const dataDir = join(work, "data");
    // Killed 150 ms into the heal (the Detect task, which heals the conflict it finds on its own
    // connection): connected, reading or writing; wherever the cut falls, the device converges.
    const first = await startRuntimeProcess({
      dataDir,
      main: [MAIN],
      extraArgs: ["--kill-during", "Detect:150"],
    });
    runtime = first;
    for (const key of [gen1, gen2]) {
      expect((await first.api("POST", "/keys/import", { privateKey: key.privateKey })).status).toBe(
        201,
      );
    }
    expect((await first.api("POST", "/devices", registration(device))).status).toBe(200);
    const { body } = await first.api<{ runId: string }>(
      "POST",
      "/events",
      deviceReconnectedEvent({ deviceId: device.id }),
    );
    const killed = await first.exited;
    expect(killed.signal).toBe("SIGKILL");
    expect(alive(first.pid)).toBe(false);

    const now = (await device.readAuthorizedKeys()).toString();
    expect([ORIGINAL, HEALED, `${ORIGINAL}${gen2.authorizedKey}\n`]).toContain(now);

    const second = await startRuntimeProcess({ dataDir, main: [MAIN] });
    runtime = second;
    expect(second.pid).not.toBe(first.pid);
    const interrupted = (
      await second.api<RunView>("GET", `/runs/${encodeURIComponent(body.runId)}`)
    ).body;
    console.log(
      `runtime killed: run ${interrupted.status} (${interrupted.error ?? "-"}), last step ${interrupted.steps.at(-1)?.name}`,
    );
    // Killed mid-run, it ends as interrupted at the next start.
    expect(interrupted).toMatchObject({ status: "FAILED", error: "Keyheal.Interrupted" });
    const healed = await eventually(
      "the device to converge after the restart",
      async () => {
        const view: DeviceView | undefined = await deviceOf(second, device.id);
        return view?.status === "KEY_BASED" && view;
      },
      60_000,
    );
    expect(healed.keyGeneration).toBe(2);
    expect((await device.readAuthorizedKeys()).toString()).toBe(HEALED);

    const exit = await second.stop();
    runtime = undefined;
    const items = await tableItems(dataDir);
    const held = items.filter((item) => item.id === device.id && item.leaseOwner !== undefined);
    expect(held).toEqual([]);
    const left = await runtimeLeftovers(
      dataDir,
      `${killed.stdout}${killed.stderr}${exit.stdout}${exit.stderr}`,
    );
    expect(secretHits(left, [])).toEqual([]);
  });
});

describe.concurrent("the runtime killed with SIGKILL just after a workflow step", () => {
  KILL_POINTS.forEach(({ step, state, down }, i) => {
    it(`${step} (${state}): the run ends, the lease is released, the device converges, one failure record at most`, async () => {
      const target = fleet.devices[1 + i] as TestDevice;
      await target.resetHome(ORIGINAL);
      const dataDir = join(work, `killed-after-${state}`);
      const first = await startRuntimeProcess({
        dataDir,
        main: [MAIN],
        extraArgs: ["--kill-after", state],
      });
      let second: RuntimeProcess | undefined;
      try {
        for (const key of [gen1, gen2]) {
          const imported = await first.api("POST", "/keys/import", { privateKey: key.privateKey });
          expect(imported.status).toBe(201);
        }
        expect((await first.api("POST", "/devices", registration(target))).status).toBe(200);
        if (down) await target.stop();
        const { body } = await first.api<{ runId: string }>(
          "POST",
          "/events",
          deviceReconnectedEvent({ deviceId: target.id }),
        );
        const killed = await first.exited;
        expect(killed.signal, `killed after ${state}`).toBe("SIGKILL");
        if (down) await target.start();
        expect([ORIGINAL, HEALED]).toContain((await target.readAuthorizedKeys()).toString());

        second = await startRuntimeProcess({ dataDir, main: [MAIN] });
        const cut = (await second.api<RunView>("GET", `/runs/${encodeURIComponent(body.runId)}`))
          .body;
        expect(cut.status).not.toBe("RUNNING");
        const healed = await eventually(
          "the device to converge after the restart",
          async () => {
            const view: DeviceView | undefined = await deviceOf(
              second as RuntimeProcess,
              target.id,
            );
            return view?.status === "KEY_BASED" && view;
          },
          60_000,
        );
        expect(healed.keyGeneration).toBe(2);
        expect((await target.readAuthorizedKeys()).toString()).toBe(HEALED);
        const records = (
          await second.api<List<FailureView>>(
            "GET",
            `/failures?deviceId=${encodeURIComponent(target.id)}&limit=100`,
          )
        ).body.items;
        // The failure recorded before the kill stays, once; a cut that failed nothing left none.
        expect(records.map((r) => r.cause)).toEqual(down ? ["CONNECTION_REFUSED"] : []);
        const exit = await second.stop();
        second = undefined;
        const held = (await tableItems(dataDir)).filter(
          (item) => item.id === target.id && item.leaseOwner !== undefined,
        );
        expect(held).toEqual([]);
        const left = await runtimeLeftovers(
          dataDir,
          `${killed.stdout}${killed.stderr}${exit.stdout}${exit.stderr}`,
        );
        expect(secretHits(left, [])).toEqual([]);
      } finally {
        await second?.stop();
        if (down) await target.start().catch(() => {});
      }
    });
  });
});
