/**
 * The local runtime's schedule for operator secrets: every `intervalMs`, the file secret store
 * deletes each short-lived secret past its expiry, read or not. Expiry checked only on read
 * would leave a password on disk for as long as nobody asks for it.
 *
 * @module
 */
import type { Logger } from "@aws-lambda-powertools/logger";

/** Operator secrets live 15 minutes; one is gone at most a minute after that. */
export const DEFAULT_SECRET_SWEEP_INTERVAL_MS = 60_000;

export interface SecretSweeperOptions {
  store: { purgeExpired(): Promise<number> };
  intervalMs?: number;
  log: Pick<Logger, "info" | "warn">;
}

export class SecretSweeper {
  readonly #options: SecretSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: SecretSweeperOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      // One sweep at a time: a slow disk never stacks them up.
      this.#sweeping ??= this.sweep().finally(() => {
        this.#sweeping = undefined;
      });
    }, this.#options.intervalMs ?? DEFAULT_SECRET_SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One sweep; a failure is logged and the next sweep tries again. */
  async sweep(): Promise<void> {
    try {
      const purged = await this.#options.store.purgeExpired();
      if (purged > 0) this.#options.log.info("expired operator secrets deleted", { purged });
    } catch (error) {
      this.#options.log.warn("sweeping expired operator secrets failed; trying again", { error });
    }
  }

  /** Stops the schedule and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }
}
