import { useCallback, useState } from "react";

/**
 * Page through a cursor-paginated list: page 1 has no cursor, page n+1 the `nextCursor` page n
 * answered. Pages already seen can be revisited; the next one opens when the API has more.
 */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; cursors: Array<string | null>; index: number }>(
    { key: resetKey, cursors: [null], index: 0 },
  );
  const current = state.key === resetKey ? state : { key: resetKey, cursors: [null], index: 0 };
  if (current !== state) setState(current);

  /** Remembers where the page after the current one starts (null: the current page is last). */
  const learnNext = useCallback((nextCursor: string | null) => {
    setState((s) => {
      const known = s.cursors[s.index + 1];
      if (nextCursor === null) {
        if (s.cursors.length === s.index + 1) return s;
        return { ...s, cursors: s.cursors.slice(0, s.index + 1) };
      }
      if (known === nextCursor) return s;
      return { ...s, cursors: [...s.cursors.slice(0, s.index + 1), nextCursor] };
    });
  }, []);

  const goTo = useCallback((index: number) => {
    setState((s) => (index >= 0 && index < s.cursors.length ? { ...s, index } : s));
  }, []);

  return {
    cursor: current.cursors[current.index] ?? null,
    /** 0-based. */
    index: current.index,
    /** Pages known so far, including the next one when there is more. */
    pagesKnown: current.cursors.length,
    hasMore: current.cursors.length > current.index + 1,
    learnNext,
    goTo,
  };
}
