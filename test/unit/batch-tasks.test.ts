import { describe, expect, it } from 'vitest';
import {
  chunkCount,
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

describe('task ids', () => {
  it('are 24 lowercase hex that sort by creation, also within one millisecond', () => {
    const ids = [newTaskId(1_700_000_000_000), newTaskId(1_700_000_000_000), newTaskId(1_700_000_000_001), newTaskId(1_800_000_000_000)];
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
    expect(settledDescription('Fail', progressOf(['Fail', 'Waitting', 'Processing']))).toBe('1 of 3 sub-tasks failed. 2 did not run: the run failed.');
  });

  it('counts each sub-task status in its IoTDA counter', () => {
    expect(progressOf(['Success', 'Fail', 'Waitting', 'FailWaitRetry', 'Stopped'])).toEqual({
      total: 5, processing: 0, success: 1, fail: 1, waitting: 1, fail_wait_retry: 1, stopped: 1, removed: 0,
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
