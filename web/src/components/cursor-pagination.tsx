import Pagination from "@cloudscape-design/components/pagination";
import type { useCursorPages } from "../hooks/use-cursor-pages.ts";

/** Pages of a cursor-paged list: the pages seen so far, open-ended while the API has more. */
export function CursorPagination({
  pages,
  what,
}: {
  pages: ReturnType<typeof useCursorPages>;
  /** What the list holds, for screen readers: `devices`, `failures`. */
  what: string;
}) {
  return (
    <Pagination
      currentPageIndex={pages.index + 1}
      pagesCount={pages.pagesKnown}
      openEnd={pages.hasMore}
      onChange={({ detail }) => pages.goTo(detail.currentPageIndex - 1)}
      ariaLabels={{
        nextPageLabel: `Next page of ${what}`,
        previousPageLabel: `Previous page of ${what}`,
        pageLabel: (n) => `Page ${n} of ${what}`,
      }}
    />
  );
}
