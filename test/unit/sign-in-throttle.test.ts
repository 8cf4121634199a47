import { describe, expect, it } from 'vitest';
import { signInThrottle } from '../../local/sign-in-throttle.ts';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('signInThrottle', () => {
  it('locks a pair after 5 failures, for a time that doubles with each further failure', () => {
    const c = clock();
    const throttle = signInThrottle({}, c.now);
    for (let i = 0; i < 4; i++) throttle.failed('a');
    expect(throttle.isLocked('a')).toBe(false);
    throttle.failed('a');
    expect(throttle.isLocked('a')).toBe(true);
    c.advance(1_000);
    expect(throttle.isLocked('a')).toBe(false);
    throttle.failed('a');
    c.advance(1_999);
    expect(throttle.isLocked('a')).toBe(true);
    c.advance(1);
    expect(throttle.isLocked('a')).toBe(false);
    expect(throttle.isLocked('b')).toBe(false);
  });

  it('clears a pair on success, forgets it after a quiet time, and caps the lock', () => {
    const c = clock();
    const throttle = signInThrottle({ maxLockMs: 10_000 }, c.now);
    for (let i = 0; i < 40; i++) throttle.failed('a');
    c.advance(10_000);
    expect(throttle.isLocked('a')).toBe(false);
    throttle.succeeded('a');
    throttle.failed('a');
    expect(throttle.isLocked('a')).toBe(false);
    for (let i = 0; i < 4; i++) throttle.failed('b');
    c.advance(15 * 60_000 + 1);
    throttle.failed('b');
    expect(throttle.isLocked('b')).toBe(false);
  });

  it('remembers at most maxEntries pairs, forgetting the oldest failure first', () => {
    const throttle = signInThrottle({ maxEntries: 2, freeFailures: 1 });
    throttle.failed('a');
    throttle.failed('b');
    throttle.failed('c');
    expect([throttle.isLocked('a'), throttle.isLocked('b'), throttle.isLocked('c')]).toEqual([false, true, true]);
  });
});
