/** The one backoff: `firstMs` doubled per attempt (attempt 0 waits `firstMs`), never more than `maxMs`. */
export const backoffDelay = (attempt: number, firstMs: number, maxMs: number): number =>
  Math.min(maxMs, firstMs * 2 ** attempt);

/** The delays of successive attempts, without end. */
export const backoffDelays = function* (firstMs: number, maxMs: number): Generator<number> {
  for (let attempt = 0; ; attempt++) yield backoffDelay(attempt, firstMs, maxMs);
};
