/**
 * Reconnect detection for devices that send no cloud events: every interval, a TCP probe of each
 * registered device's SSH port; a device that was down and answers again gets a `Device
 * Reconnected` event through the same intake as `POST /events`.
 *
 * @module
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type ProbeResult, probeTcp } from "../cloud/tcp-probe.ts";
import type { Device, DeviceStore } from "../devices/types.ts";
import { deviceReconnectedEvent } from "../events/build.ts";
import type { IntakeResult } from "../workflows/intake.ts";

export interface ProbeLoopOptions {
  devices: Pick<DeviceStore, "list">;
  /** Takes the event in: `intakeEvent` with the runtime's intake deps. */
  intake: (event: unknown) => Promise<IntakeResult>;
  /** Pause between the end of one sweep and the start of the next. */
  intervalMs: number;
  /** Per probe; default min(interval, 3 s). */
  timeoutMs?: number;
  /** Probes at once; default 16. */
  concurrency?: number;
  log: Pick<Logger, "info" | "warn" | "debug">;
  /** Replaceable for tests of the loop itself; default {@link probeTcp}. */
  probe?: (host: string, port: number, timeoutMs: number) => Promise<ProbeResult>;
}

export interface ProbeSweep {
  probed: number;
  reconnected: string[];
}

/** State of one device as the loop last saw it. */
interface Seen {
  up: boolean;
  since: number;
}

export class ProbeLoop {
  readonly #options: Required<Omit<ProbeLoopOptions, "probe">> & {
    probe: NonNullable<ProbeLoopOptions["probe"]>;
  };
  readonly #seen = new Map<string, Seen>();
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<unknown> | undefined;
  #started = false;
  #stopped = false;
  #sweeps = 0;

  constructor(options: ProbeLoopOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new RangeError(
        `probe interval must be a positive number of ms, got ${options.intervalMs}`,
      );
    }
    this.#options = {
      timeoutMs: Math.min(options.intervalMs, 3_000),
      concurrency: 16,
      probe: probeTcp,
      ...options,
    };
  }

  /** Starts sweeping: one now, then one `intervalMs` after each ends (they never overlap). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(0);
  }

  /**
   * Stops the loop for good and waits for a sweep in progress, which ends after the probes
   * already under way (bounded by the probe timeout).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current;
  }

  /** Sweeps so far and devices currently seen down, for the status endpoint. */
  status(): { running: boolean; sweeps: number; down: string[]; intervalMs: number } {
    const down = [...this.#seen].filter(([, s]) => !s.up).map(([id]) => id);
    return {
      running: this.#started && !this.#stopped,
      sweeps: this.#sweeps,
      down,
      intervalMs: this.#options.intervalMs,
    };
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#current = this.sweep()
        .catch((error: unknown) =>
          this.#options.log.warn("probe sweep failed", { error: error as Error }),
        )
        .finally(() => this.#schedule(this.#options.intervalMs));
    }, delay);
    this.#timer.unref();
  }

  /**
   * Probes every registered device once. A device seen for the first time counts as down when
   * its stored status is UNREACHABLE (it may have come back while nobody watched), else as
   * whatever the probe finds.
   */
  async sweep(): Promise<ProbeSweep> {
    const devices = await this.#allDevices();
    const known = new Set(devices.map((d) => d.id));
    for (const id of this.#seen.keys()) if (!known.has(id)) this.#seen.delete(id);
    const reconnected: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < devices.length && !this.#stopped; i = next++) {
        const device = devices[i] as Device;
        if (await this.#check(device)) reconnected.push(device.id);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#options.concurrency, devices.length) }, worker),
    );
    this.#sweeps++;
    return { probed: devices.length, reconnected };
  }

  /** True when the device came back and an event was sent for it. */
  async #check(device: Device): Promise<boolean> {
    const { log } = this.#options;
    const result = await this.#options.probe(device.host, device.port, this.#options.timeoutMs);
    const now = Date.now();
    const before = this.#seen.get(device.id) ?? {
      up: device.status !== "UNREACHABLE" ? result.open : false,
      since: now,
    };
    this.#seen.set(device.id, result.open === before.up ? before : { up: result.open, since: now });
    if (!result.open) {
      if (before.up) log.info("device went down", { deviceId: device.id, cause: result.cause });
      return false;
    }
    if (before.up) return false;
    const downForMs = now - before.since;
    try {
      const outcome = await this.#options.intake(
        deviceReconnectedEvent({
          deviceId: device.id,
          reason: `probe: ${device.host}:${device.port} accepts connections again`,
          observedAt: new Date(now).toISOString(),
        }),
      );
      log.info("device reconnected", {
        deviceId: device.id,
        downForMs,
        outcome: outcome.outcome,
        runId: outcome.outcome === "ignored" ? undefined : outcome.runId,
      });
      return true;
    } catch (error) {
      // Seen down again, so the next sweep tries once more.
      this.#seen.set(device.id, before);
      log.warn("reconnect event failed", { deviceId: device.id, error: error as Error });
      return false;
    }
  }

  async #allDevices(): Promise<Device[]> {
    const devices: Device[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#options.devices.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      devices.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && !this.#stopped);
    return devices;
  }
}
