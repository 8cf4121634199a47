import pLimit from 'p-limit';

/** `each` over `items`, at most `limit` at a time (p-limit); the results in the items' order. */
export const mapLimit = <T, R>(
  items: Iterable<T>,
  limit: number,
  each: (item: T, index: number) => Promise<R>,
): Promise<R[]> => pLimit(limit).map(items, each);
