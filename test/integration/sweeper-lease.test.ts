import { describe, expect, it } from 'vitest';
import { build as batchSweeper } from '../../functions/schedule/batch-sweeper.ts';
import { build as messageSweeper } from '../../functions/schedule/message-sweeper.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { runAlone } from '../../shared/use-cases/run-alone.ts';
import { startTestRuntime } from '../support/runtime.ts';

// The sweepers' lease, on the runtime's DynamoDB: what keeps two runs of one sweeper from overlapping on AWS.
const runtime = await startTestRuntime();
const { deps } = runtime;

describe('sweeper lease', () => {
  it('skips a message sweep while another run of it holds the lease, and sweeps once it is released', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = runAlone(deps, 'message-sweeper', 60_000, async () => {
      started();
      await gate;
      return 'first';
    });
    await running;

    const sweep = messageSweeper(deps);
    expect(await sweep({}, lambdaContext('message-sweeper', 60_000))).toEqual({ skipped: true });
    finish();
    expect(await first).toBe('first');
    expect(await sweep({}, lambdaContext('message-sweeper', 60_000))).toEqual({ swept: expect.any(Number) });
  });

  it('takes over a lease whose holder died once it has run out, and not before', async () => {
    const now = Date.now();
    expect(await deps.leases.acquire('batch-sweeper', 'died', now, now + 60_000)).toBe(true);
    const sweep = batchSweeper(deps);
    expect(await sweep({}, lambdaContext('batch-sweeper', 60_000))).toEqual({ skipped: true });

    // The same lease seen a minute later: it has run out.
    const later = batchSweeper({ ...deps, clock: { now: () => Date.now() + 61_000 } });
    expect(await later({}, lambdaContext('batch-sweeper', 60_000))).toEqual({
      revived: expect.any(Number),
      purged: expect.any(Number),
    });
    // That run released its lease; the dead holder's release changes nothing.
    await deps.leases.release('batch-sweeper', 'died');
    expect(await sweep({}, lambdaContext('batch-sweeper', 60_000))).toMatchObject({ revived: expect.any(Number) });
  });

  it('lets only one of three simultaneous takers have a free lease', async () => {
    const now = Date.now();
    const taken = await Promise.all(
      ['a', 'b', 'c'].map((holder) => deps.leases.acquire('race', holder, now, now + 60_000)),
    );
    expect(taken.filter(Boolean)).toHaveLength(1);
  });
});
