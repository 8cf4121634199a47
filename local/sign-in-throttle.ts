import { backoffDelay } from '../shared/backoff.ts';

/**
 * Slows password guessing at the local broker. Failed sign-ins are counted per client address and device
 * id: after `freeFailures` in a row, that pair is locked (its CONNECTs refused without a check) for a time
 * that doubles with each further failure, from `firstLockMs` up to `maxLockMs`. A success clears the pair.
 * Keyed by the pair, so a guesser locks out only itself: other devices behind the same address still sign
 * in, and the device signs in from anywhere else. At most `maxEntries` pairs are remembered (the oldest
 * failure is forgotten first), and a pair quiet for `forgetAfterMs` starts afresh.
 */
export interface SignInThrottleOptions {
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
  forgetAfterMs: number;
  maxEntries: number;
}

const DEFAULTS: SignInThrottleOptions = {
  freeFailures: 5,
  firstLockMs: 1_000,
  maxLockMs: 5 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface Failures {
  count: number;
  lastAt: number;
  lockedUntil: number;
}

export const signInThrottle = (options: Partial<SignInThrottleOptions> = {}, now: () => number = Date.now) => {
  const o = { ...DEFAULTS, ...options };
  const failures = new Map<string, Failures>(); // in order of the latest failure, oldest first

  const current = (key: string): Failures | undefined => {
    const f = failures.get(key);
    if (f && now() - f.lastAt > o.forgetAfterMs) failures.delete(key);
    return failures.get(key);
  };

  return {
    /** True while the pair's CONNECTs are refused unchecked. */
    isLocked: (key: string): boolean => (current(key)?.lockedUntil ?? 0) > now(),

    failed(key: string) {
      const f = current(key) ?? { count: 0, lastAt: 0, lockedUntil: 0 };
      f.count++;
      f.lastAt = now();
      const over = f.count - o.freeFailures;
      if (over >= 0) f.lockedUntil = f.lastAt + backoffDelay(over, o.firstLockMs, o.maxLockMs);
      failures.delete(key);
      failures.set(key, f);
      if (failures.size > o.maxEntries) failures.delete(failures.keys().next().value!);
    },

    succeeded(key: string) {
      failures.delete(key);
    },
  };
};
