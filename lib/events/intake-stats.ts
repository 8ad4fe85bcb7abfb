import type { EventType } from "./detail-types.ts";
import { InvalidEventError, UnknownEventTypeError } from "./errors.ts";
import type { IgnoreReason, ParsedEvent } from "./parse-event.ts";

/** What became of one incoming event. */
export type IntakeOutcome = "accepted" | "ignored" | "rejected";

/** Why an event was rejected, decided by the error's class. */
export type RejectReason = "UNKNOWN_EVENT_TYPE" | "INVALID_EVENT" | "INTERNAL";

/** Counts of one outcome, in total and by reason. */
export interface OutcomeCounts {
  total: number;
  byReason: Record<string, number>;
}

export interface IntakeSnapshot {
  accepted: OutcomeCounts;
  ignored: OutcomeCounts;
  rejected: OutcomeCounts;
}

/** One counter, shaped for a metrics sink (Powertools `addMetric` with a `reason` dimension). */
export interface IntakeMetric {
  outcome: IntakeOutcome;
  reason: string;
  count: number;
}

/**
 * Counts incoming events by outcome and reason: accepted by event type, ignored by
 * `IgnoreReason`, rejected by error class. The local runtime shows it; on AWS the handler
 * emits `metrics()` after each batch.
 */
export class IntakeStats {
  readonly #counts: Record<IntakeOutcome, Map<string, number>> = {
    accepted: new Map(),
    ignored: new Map(),
    rejected: new Map(),
  };

  recordAccepted(eventType: EventType): void {
    this.#add("accepted", eventType);
  }

  recordIgnored(reason: IgnoreReason): void {
    this.#add("ignored", reason);
  }

  recordRejected(reason: RejectReason): void {
    this.#add("rejected", reason);
  }

  /** Counts a `parseReconnectEvent` result. */
  recordResult(result: ParsedEvent): void {
    if (result.kind === "reconnect") this.recordAccepted(result.eventType);
    else this.recordIgnored(result.reason);
  }

  /** Counts an error thrown by `parseReconnectEvent`; returns the reason it was counted under. */
  recordError(error: unknown): RejectReason {
    const reason = rejectReasonOf(error);
    this.recordRejected(reason);
    return reason;
  }

  /** How many events had this outcome, for one reason or for all. */
  count(outcome: IntakeOutcome, reason?: string): number {
    const counts = this.#counts[outcome];
    if (reason !== undefined) return counts.get(reason) ?? 0;
    let total = 0;
    for (const n of counts.values()) total += n;
    return total;
  }

  snapshot(): IntakeSnapshot {
    const of = (outcome: IntakeOutcome): OutcomeCounts => ({
      total: this.count(outcome),
      byReason: Object.fromEntries(this.#counts[outcome]),
    });
    return { accepted: of("accepted"), ignored: of("ignored"), rejected: of("rejected") };
  }

  /** Every non-zero counter, sorted by outcome then reason. */
  metrics(): IntakeMetric[] {
    const out: IntakeMetric[] = [];
    for (const outcome of ["accepted", "ignored", "rejected"] as const) {
      const reasons = [...this.#counts[outcome].entries()].sort(([a], [b]) => a.localeCompare(b));
      for (const [reason, count] of reasons) out.push({ outcome, reason, count });
    }
    return out;
  }

  reset(): void {
    for (const counts of Object.values(this.#counts)) counts.clear();
  }

  #add(outcome: IntakeOutcome, reason: string): void {
    const counts = this.#counts[outcome];
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
}

/** The reject reason of an intake error, by class. */
export function rejectReasonOf(error: unknown): RejectReason {
  if (error instanceof UnknownEventTypeError) return "UNKNOWN_EVENT_TYPE";
  if (error instanceof InvalidEventError) return "INVALID_EVENT";
  return "INTERNAL";
}
