/** Runs `each` over `items` with at most `limit` in flight; resolves when all have settled. */
export const forEachLimit = async <T>(
  items: readonly T[],
  limit: number,
  each: (item: T, index: number) => Promise<void>,
) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await each(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};
