import { describe, expect, it } from 'vitest';
import {
  abortReason,
  chunkCount,
  emptyProgress,
  paceSlot,
  retryAfterFailure,
  runnableNow,
  waitTimestamp,
  type SubtaskRecord,
  type SubtaskStatus,
  chunkRange,
  FIRST_MARKER,
  firstSeqBelow,
  newTaskId,
  progressOf,
  settledDescription,
  settledStatus,
  subtaskId,
  TASK_ID,
  uniqueTargets,
} from '../../shared/domain/batch-tasks.ts';
import { parseCompactUtc } from '../../shared/time.ts';

describe('task ids', () => {
  it('are 24 lowercase hex that sort by creation, also within one millisecond', () => {
    const ids = [
      newTaskId(1_700_000_000_000),
      newTaskId(1_700_000_000_000),
      newTaskId(1_700_000_000_001),
      newTaskId(1_800_000_000_000),
    ];
    for (const id of ids) expect(id).toMatch(TASK_ID);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => id < FIRST_MARKER)).toBe(true);
  });
});

describe('settle rule (IoTDA §6.6)', () => {
  it('is Success when all succeed, Fail when none does, PartialSuccess for a mix', () => {
    expect(settledStatus(progressOf(['Success', 'Success']))).toBe('Success');
    expect(settledStatus(progressOf(['Fail', 'Fail']))).toBe('Fail');
    expect(settledStatus(progressOf(['Success', 'Fail']))).toBe('PartialSuccess');
  });

  it('says how many failed, and how many never ran when the run itself failed', () => {
    expect(settledDescription('Success', progressOf(['Success']))).toBe('All sub-tasks succeeded.');
    expect(settledDescription('PartialSuccess', progressOf(['Success', 'Fail']))).toBe('1 of 2 sub-tasks failed.');
    expect(settledDescription('Fail', progressOf(['Fail', 'Waitting', 'Processing']))).toBe(
      '1 of 3 sub-tasks failed. 2 did not run: the run failed.',
    );
    expect(settledDescription('Fail', progressOf(['Fail', 'FailWaitRetry']))).toBe(
      '1 of 2 sub-tasks failed. 1 did not run: the run failed.',
    );
  });

  it('counts each sub-task status in its IoTDA counter', () => {
    expect(progressOf(['Success', 'Fail', 'Waitting', 'FailWaitRetry', 'Stopped'])).toEqual({
      total: 5,
      processing: 0,
      success: 1,
      fail: 1,
      waitting: 1,
      fail_wait_retry: 1,
      stopped: 1,
      removed: 0,
    });
  });
});

describe('sub-task markers', () => {
  it('descend in target order, the first just below the default marker', () => {
    expect(subtaskId(0)).toBe('fffffffffffffffffffffffe');
    expect(subtaskId(0) < FIRST_MARKER).toBe(true);
    expect(subtaskId(1) < subtaskId(0)).toBe(true);
    expect(subtaskId(29_999)).toMatch(/^[0-9a-f]{24}$/);
  });

  it('turn back into the next position to show', () => {
    expect(firstSeqBelow(FIRST_MARKER)).toBe(0);
    expect(firstSeqBelow(subtaskId(0))).toBe(1);
    expect(firstSeqBelow(subtaskId(49))).toBe(50);
    // A marker below every sub-task id leaves nothing to show.
    expect(firstSeqBelow('000000000000000000000000')).toBe(30_000);
  });
});

describe('targets', () => {
  it('keep their order with repeats removed', () => {
    expect(uniqueTargets(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });

  it('are cut into chunks of 100', () => {
    expect(chunkCount(1)).toBe(1);
    expect(chunkCount(30_000)).toBe(300);
    expect(chunkRange(2, 250)).toEqual({ from: 200, to: 249 });
  });
});

describe('run rules', () => {
  const window = { now: 10_000, staleBefore: 5_000, rerunFrom: 3 };
  const sub = (status: SubtaskStatus, extra: Partial<SubtaskRecord> = {}): SubtaskRecord => ({
    taskId: 't',
    seq: 0,
    target: 'd',
    status,
    ...extra,
  });

  it('runs what waits, abandoned claims, retries that are due, and what a whole-task retry reruns', () => {
    expect(runnableNow(sub('Waitting'), window)).toBe(true);
    expect(runnableNow(sub('Processing', { claimedAt: 4_999 }), window)).toBe(true);
    expect(runnableNow(sub('Processing', { claimedAt: 5_000 }), window)).toBe(false);
    expect(runnableNow(sub('FailWaitRetry', { retryAt: 10_000 }), window)).toBe(true);
    expect(runnableNow(sub('FailWaitRetry', { retryAt: 10_001 }), window)).toBe(false);
    expect(runnableNow(sub('Fail', { run: 2 }), window)).toBe(true);
    expect(runnableNow(sub('Stopped'), window)).toBe(true);
    // Failed in the retry's own run: not again.
    expect(runnableNow(sub('Fail', { run: 3 }), window)).toBe(false);
    expect(runnableNow(sub('Success', { run: 1 }), window)).toBe(false);
  });

  it('paces first attempts by minute of position', () => {
    expect([0, 2, 3, 5, 6].map((seq) => paceSlot(seq, 1_000, 3, 60_000))).toEqual([
      1_000, 1_000, 61_000, 61_000, 121_000,
    ]);
    expect(paceSlot(29_999, 1_000, undefined, 60_000)).toBe(1_000);
  });

  it('retries a failure while the policy has attempts left', () => {
    const policy = { retry_count: 2, retry_interval: 5 };
    expect(retryAfterFailure(1, policy, 0, 60_000)).toBe(300_000);
    expect(retryAfterFailure(2, policy, 0, 60_000)).toBe(300_000);
    expect(retryAfterFailure(3, policy, 0, 60_000)).toBeUndefined();
    expect(retryAfterFailure(1, undefined, 0, 60_000)).toBeUndefined();
    expect(retryAfterFailure(1, { retry_count: 0, retry_interval: 5 }, 0, 60_000)).toBeUndefined();
  });

  it('aborts at the failure share once enough ended', () => {
    const p = (success: number, fail: number) => ({ ...emptyProgress(), success, fail });
    const policy = { abort_on_failure_percent: 50, abort_min_count: 4 };
    expect(abortReason(p(1, 2), policy)).toBeUndefined();
    expect(abortReason(p(2, 2), policy)).toMatch(/^Aborted: 2 of 4/);
    expect(abortReason(p(3, 2), policy)).toBeUndefined();
    expect(abortReason(p(0, 9), { abort_on_failure_percent: 50 })).toBeUndefined();
    expect(abortReason(p(0, 10), { abort_on_failure_percent: 50 })).toMatch(/^Aborted/);
    expect(abortReason(p(0, 100), undefined)).toBeUndefined();
  });

  it('writes Wait timestamps in whole seconds, never early', () => {
    expect(waitTimestamp(Date.UTC(2026, 10, 25, 23, 0, 0))).toBe('2026-11-25T23:00:00Z');
    expect(waitTimestamp(Date.UTC(2026, 10, 25, 23, 0, 0, 1))).toBe('2026-11-25T23:00:01Z');
  });

  it('reads compact UTC schedule times, refusing ones that name no real time', () => {
    expect(parseCompactUtc('20261125T230000Z')).toBe(Date.UTC(2026, 10, 25, 23));
    expect(parseCompactUtc('20260231T000000Z')).toBeNaN();
    expect(parseCompactUtc('2026-11-25T23:00:00Z')).toBeNaN();
  });
});
