import { useCallback, useEffect, useRef, useState } from "react";

export interface Poll<T> {
  data: T | undefined;
  /** The last call's error; the last good data stays shown beside it. */
  error: unknown;
  /** True until the first answer (or error) for the current inputs. */
  loading: boolean;
  /** When the data was last fetched. */
  updatedAt: Date | undefined;
  refresh(): void;
}

/** Whether the tab is visible: a hidden console stops calling the API. */
function visible(): boolean {
  return document.visibilityState !== "hidden";
}

/**
 * Calls `fetcher` now and every `intervalMs` while the tab is visible (an interval of 0 calls it
 * once). Changing `key` starts over: the data of other inputs is never shown as this one's.
 * Calls never overlap; an answer that arrives after the inputs changed is dropped.
 */
export function usePoll<T>(fetcher: () => Promise<T>, key: string, intervalMs: number): Poll<T> {
  const [state, setState] = useState<{
    key: string;
    data: T | undefined;
    error: unknown;
    loading: boolean;
    updatedAt: Date | undefined;
  }>({ key, data: undefined, error: undefined, loading: true, updatedAt: undefined });
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `tick` restarts the loop at once (refresh on demand).
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    const run = async () => {
      if (cancelled || inFlight) return;
      if (!visible()) return;
      inFlight = true;
      try {
        const data = await fetcherRef.current();
        if (!cancelled) {
          setState({ key, data, error: undefined, loading: false, updatedAt: new Date() });
        }
      } catch (error) {
        if (!cancelled) {
          setState((s) => ({
            key,
            data: s.key === key ? s.data : undefined,
            error,
            loading: false,
            updatedAt: s.updatedAt,
          }));
        }
      } finally {
        inFlight = false;
      }
      if (!cancelled && intervalMs > 0 && visible()) timer = setTimeout(run, intervalMs);
    };
    const onVisibility = () => {
      clearTimeout(timer);
      if (visible()) void run();
    };
    setState((s) => (s.key === key ? s : { ...s, key, data: undefined, loading: true }));
    void run();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [key, intervalMs, tick]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : true,
    updatedAt: current ? state.updatedAt : undefined,
    refresh,
  };
}
