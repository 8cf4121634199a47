import { setTimeout } from 'node:timers/promises';
import { backoffDelays } from './backoff.ts';
import type { Clock } from './time.ts';

/** Poll delays: quick at first, where most answers land, then no more than one read per 100 ms. */
export const pollDelays = () => backoffDelays(2, 100);

/**
 * Polls `check` until it yields a value or the deadline passes (DESIGN.md: the API handler polls for the
 * response item with a short backoff). The first check waits one delay, since no answer can be back the
 * moment the request is sent. Never sleeps past the deadline, and checks once more at it.
 */
export const awaitResponse = async <T>(
  check: () => Promise<T | undefined>,
  deadline: number,
  clock: Clock,
  sleep: (ms: number) => Promise<unknown> = setTimeout,
): Promise<T | undefined> => {
  for (const delay of pollDelays()) {
    const left = deadline - clock.now();
    if (left > 0) await sleep(Math.min(delay, left));
    const value = await check();
    if (value !== undefined || left <= 0) return value;
  }
  return undefined;
};
