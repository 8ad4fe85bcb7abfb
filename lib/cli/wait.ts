/**
 * `--wait`: polls `GET /runs/{id}` until every run it was given has ended, or `GET /jobs/{id}`
 * until a job has, with a one-line live progress display on stderr when stderr is a terminal
 * (and no progress output otherwise).
 *
 * @module
 */

import type { JobView, RunView } from "../contract/api.ts";
import type { ApiClient } from "./api-client.ts";
import { ApiError } from "./errors.ts";
import type { CliOutput } from "./io.ts";
import { formatDuration } from "./output.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** First polls come quickly (most local runs end within a second), then once a second. */
const POLL_DELAYS_MS = [150, 300, 600, 1_000];
/** A run may be listed a moment after it was started; a 404 until then is not an error. */
const NOT_FOUND_GRACE_MS = 10_000;
/** Polls in flight at once when waiting for many runs (a resolve of a whole site). */
const POLL_CONCURRENCY = 8;

/** One line on a terminal, redrawn in place; silent when `enabled` is false. */
export class Progress {
  readonly #out: CliOutput;
  readonly #enabled: boolean;
  #text = "";
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: CliOutput, enabled = out.isTTY === true) {
    this.#out = out;
    this.#enabled = enabled;
  }

  update(text: string): void {
    if (!this.#enabled) return;
    this.#text = text;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#draw(), 100);
      this.#timer.unref();
    }
    this.#draw();
  }

  /** Clears the line; `final`, when given, stays on it. */
  stop(final?: string): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#enabled) return;
    this.#out.write(`\r\u001b[2K${final === undefined ? "" : `${final}\n`}`);
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % SPINNER.length;
    this.#out.write(`\r\u001b[2K${SPINNER[this.#frame]} ${this.#text}`);
  }
}

const BAR_WIDTH = 20;

/** `█████░░░░░`: `done` of `total` as a bar; empty when the total is not known yet. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/** `installed 3/8 · 1 failed` with its bar: counts of a fan-out, for the progress line. */
export function countsLine(
  verb: string,
  counts: { ok: number; failed: number; ended: number; total: number },
): string {
  const failed = counts.failed > 0 ? ` · ${counts.failed} failed` : "";
  return `${progressBar(counts.ended, counts.total)} ${verb} ${counts.ok}/${counts.total}${failed}`;
}

/**
 * `12.5 devices/s · ETA 2m40s`: the fan-out's rate since it was first seen (`since`: when, and
 * how many devices had ended then) and the time left at that rate; empty until a device has
 * ended after that, and no ETA once every device has.
 */
export function rateLine(
  since: { at: number; done: number },
  now: { at: number; done: number },
  total: number,
): string {
  const seconds = (now.at - since.at) / 1000;
  const ended = now.done - since.done;
  if (seconds <= 0 || ended <= 0) return "";
  const rate = ended / seconds;
  const shown = rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
  const left = Math.max(0, total - now.done);
  return left === 0
    ? `${shown} devices/s`
    : `${shown} devices/s · ETA ${formatDuration((left / rate) * 1000)}`;
}

/** The shortest pause between polls when a rotation's end is near. */
const NEAR_END_POLL_MS = 200;

/**
 * How long to wait before the next poll of a rotation: the usual delay, or less when its devices
 * should all have ended sooner at the rate seen so far (the run's last states follow at once),
 * so `--wait` returns close to when the run ends rather than up to a second after.
 */
export function nextPollDelay(
  usual: number,
  since: { at: number; done: number } | undefined,
  now: { at: number; done: number },
  total: number,
): number {
  if (total <= 0) return usual;
  if (now.done >= total) return Math.min(usual, NEAR_END_POLL_MS);
  if (!since) return usual;
  const rate = (now.done - since.done) / (now.at - since.at);
  if (!(rate > 0)) return usual;
  const left = (total - now.done) / rate;
  return Math.round(Math.min(usual, Math.max(NEAR_END_POLL_MS, left)));
}

export interface RunToWait {
  runId: string;
  deviceId?: string | null | undefined;
}

export interface WaitOptions {
  progress: Progress;
  now: () => Date;
  /** Test seam; defaults to {@link POLL_DELAYS_MS}. */
  pollDelaysMs?: readonly number[];
}

/**
 * Polls until every run has ended; resolves to the final run records, in the order given.
 *
 * @throws ApiError when a run cannot be read (a 404 beyond a short grace, any 5xx)
 */
export async function waitForRuns(
  client: ApiClient,
  runs: readonly RunToWait[],
  options: WaitOptions,
): Promise<RunView[]> {
  const started = options.now().getTime();
  const delays = options.pollDelaysMs ?? POLL_DELAYS_MS;
  const latest = new Map<string, RunView>();
  const pending = new Set(runs.map((each) => each.runId));
  const label = (runId: string) => runs.find((each) => each.runId === runId)?.deviceId ?? runId;
  let firstSeen: { at: number; done: number } | undefined;
  try {
    for (let round = 0; pending.size > 0; round += 1) {
      let usual = delays[Math.min(round, delays.length - 1)] ?? 1_000;
      const batch = [...pending];
      for (let offset = 0; offset < batch.length; offset += POLL_CONCURRENCY) {
        await Promise.all(
          batch.slice(offset, offset + POLL_CONCURRENCY).map(async (runId) => {
            try {
              const view = await client.getRun(runId);
              latest.set(runId, view);
              if (view.status !== "RUNNING") pending.delete(runId);
            } catch (error) {
              const young = options.now().getTime() - started < NOT_FOUND_GRACE_MS;
              if (!(error instanceof ApiError && error.status === 404 && young)) throw error;
            }
          }),
        );
      }
      const spent = formatDuration(options.now().getTime() - started);
      if (runs.length === 1) {
        const only = runs[0] as RunToWait;
        const view = latest.get(only.runId);
        const fanOut = view?.progress ?? null;
        const step = view?.steps.at(-1)?.name;
        if (fanOut !== null && fanOut.total > 0) {
          // A rotation: the devices of the fan-out are what an operator watches.
          const line = countsLine("installed", {
            ok: fanOut.done - fanOut.failed,
            failed: fanOut.failed,
            ended: fanOut.done,
            total: fanOut.total,
          });
          const now = { at: options.now().getTime(), done: fanOut.done };
          firstSeen ??= now;
          const rate = rateLine(firstSeen, now, fanOut.total);
          usual = nextPollDelay(usual, firstSeen, now, fanOut.total);
          options.progress.update(
            `${view?.workflow ?? "run"}: ${line}${rate ? ` · ${rate}` : ""} · ${spent}`,
          );
        } else {
          options.progress.update(
            `${view?.workflow ?? "run"} ${label(only.runId)}: ${view?.status ?? "STARTING"}${step ? ` · ${step}` : ""} · ${spent}`,
          );
        }
      } else {
        const ended = runs.length - pending.size;
        const failed = [...latest.values()].filter((view) => view.status === "FAILED").length;
        options.progress.update(
          `${ended}/${runs.length} runs ended${failed > 0 ? ` · ${failed} failed` : ""} · ${spent}`,
        );
      }
      if (pending.size === 0) break;
      await new Promise((resolve) => setTimeout(resolve, usual));
    }
  } finally {
    options.progress.stop();
  }
  return runs.map((each) => latest.get(each.runId) as RunView);
}

/**
 * Polls `GET /jobs/{id}` until the job has ended, showing how many of its runs succeeded and
 * failed; resolves to the ended job.
 *
 * @param verb what a succeeded run did, for the progress line: `resolved`
 * @throws ApiError when the job cannot be read (a 404 beyond a short grace, any 5xx)
 */
export async function waitForJob(
  client: ApiClient,
  jobId: string,
  verb: string,
  options: WaitOptions,
): Promise<JobView> {
  const started = options.now().getTime();
  const delays = options.pollDelaysMs ?? POLL_DELAYS_MS;
  try {
    for (let round = 0; ; round += 1) {
      let view: JobView | undefined;
      try {
        view = await client.getJob(jobId);
      } catch (error) {
        const young = options.now().getTime() - started < NOT_FOUND_GRACE_MS;
        if (!(error instanceof ApiError && error.status === 404 && young)) throw error;
      }
      if (view !== undefined && view.status !== "RUNNING") return view;
      const spent = formatDuration(options.now().getTime() - started);
      const total = view?.total ?? 0;
      const line =
        view === undefined
          ? "starting"
          : countsLine(verb, {
              ok: view.succeeded,
              failed: view.failed,
              ended: view.succeeded + view.failed,
              total,
            });
      options.progress.update(`${view?.kind ?? "job"}: ${line} · ${spent}`);
      const delay = delays[Math.min(round, delays.length - 1)] ?? 1_000;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  } finally {
    options.progress.stop();
  }
}
