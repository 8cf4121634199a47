import { describe, expect, it } from 'vitest';
import { awaitResponse, pollDelays } from '../../shared/await-response.ts';

/** A clock that only moves when the waiter sleeps, so the test runs in no real time. */
const fakeTime = () => {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    elapsed: () => now - 1_000,
  };
};

describe('awaitResponse', () => {
  it('backs off from 2 ms, doubling, to at most 100 ms', () => {
    const it = pollDelays();
    expect(Array.from({ length: 9 }, () => it.next().value)).toEqual([2, 4, 8, 16, 32, 64, 100, 100, 100]);
  });

  it('waits before the first poll and returns the value as soon as a poll finds it', async () => {
    const t = fakeTime();
    let polls = 0;
    const value = await awaitResponse(
      async () => (++polls === 4 ? 'answer' : undefined),
      1_000 + 20_000,
      t.clock,
      t.sleep,
    );
    expect(value).toBe('answer');
    expect(polls).toBe(4);
    expect(t.sleeps).toEqual([2, 4, 8, 16]);
  });

  it('gives up at the deadline, never sleeping past it, with a last poll there', async () => {
    const t = fakeTime();
    let polls = 0;
    const value = await awaitResponse(
      async () => {
        polls++;
        return undefined;
      },
      1_000 + 1_000,
      t.clock,
      t.sleep,
    );
    expect(value).toBeUndefined();
    expect(t.elapsed()).toBe(1_000);
    expect(t.sleeps.at(-1)).toBeLessThanOrEqual(100);
    // One poll after each sleep, and a last one at the deadline.
    expect(polls).toBe(t.sleeps.length + 1);
  });

  it('polls once and returns when the deadline has already passed', async () => {
    const t = fakeTime();
    let polls = 0;
    await awaitResponse(async () => void polls++, 500, t.clock, t.sleep);
    expect(polls).toBe(1);
    expect(t.sleeps).toEqual([]);
  });
});
