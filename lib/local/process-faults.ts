/**
 * What the local runtime does with an error nothing caught (`uncaughtException`,
 * `unhandledRejection`): it logs it, drains, and exits non-zero (see `runLocalRuntimeMain`).
 *
 * Keeping the process alive after such an error would run on with state no one checked; exiting at
 * once, Node's default, would cut off heals in flight and leave the lock behind. Draining lets
 * runs in flight finish (up to the drain timeout), and a run still unfinished then is ended as
 * interrupted at the next start, its device checked again (recover-runs.ts): no run is lost.
 *
 * @module
 */

/** The first error nothing caught. */
export interface ProcessFault {
  kind: "uncaughtException" | "unhandledRejection";
  error: unknown;
}

export interface FaultWatch {
  /** Settles with the first fault; never rejects. */
  fault: Promise<ProcessFault>;
  /** Removes the handlers (after the drain). */
  dispose(): void;
}

/** One line for stderr: the error's name, message and stack, never its data fields. */
export function describeFault({ kind, error }: ProcessFault): string {
  const text =
    error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return `${kind}: ${text}`;
}

/**
 * Handles both process events until disposed: the first fault settles `fault`, later ones (while
 * draining) go to `later`, so none of them ends the process before the drain is done.
 */
export function watchProcessFaults(later: (fault: ProcessFault) => void): FaultWatch {
  let settle: ((fault: ProcessFault) => void) | undefined;
  const fault = new Promise<ProcessFault>((resolve) => {
    settle = resolve;
  });
  const on = (kind: ProcessFault["kind"]) => (error: unknown) => {
    const caught = { kind, error };
    if (settle) {
      settle(caught);
      settle = undefined;
    } else {
      later(caught);
    }
  };
  const onException = on("uncaughtException");
  const onRejection = on("unhandledRejection");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return {
    fault,
    dispose: () => {
      process.off("uncaughtException", onException);
      process.off("unhandledRejection", onRejection);
    },
  };
}
