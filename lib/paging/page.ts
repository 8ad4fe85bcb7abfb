/** One page of a list, and the opaque cursor of the next page when there is one. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
}
