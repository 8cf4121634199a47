import { describe, expect, it } from 'vitest';
import { progressOf, type SubtaskStatus, type TaskStatus } from '../../shared/domain/batch-tasks.ts';
import type { BatchTaskRecord } from '../../shared/ports/batch-task-store.ts';
import type { RunState } from '../../shared/ports/task-runner.ts';
import { prepareBatchTask } from '../../shared/use-cases/prepare-batch-task.ts';
import { reviveBatchTasks } from '../../shared/use-cases/revive-batch-tasks.ts';
import { runBatchChunk } from '../../shared/use-cases/run-batch-chunk.ts';
import { settleBatchTask } from '../../shared/use-cases/settle-batch-task.ts';
import {
  countingMetrics,
  fakeClock,
  fakeTaskRunner,
  InMemoryBatchTasks,
  InMemorySubtasks,
  recordingNotifier,
  silentLogger,
} from '../support/fakes.ts';

// The batch use cases over in-memory ports: each step's decisions, without emulators or devices.
// test/integration/batch-*.test.ts run the same steps through the local runtime.

const COMMAND_TIMEOUT_MS = 20_000;

const setup = (runStates: Record<string, RunState> = {}) => {
  const clock = fakeClock();
  const deps = {
    batchTasks: new InMemoryBatchTasks(),
    subtasks: new InMemorySubtasks(),
    notifier: recordingNotifier(),
    taskRunner: fakeTaskRunner(runStates),
    metrics: countingMetrics(),
    logger: silentLogger,
    clock,
    config: { commandTimeoutMs: COMMAND_TIMEOUT_MS, ttlMinuteMs: 60_000 } as never,
  };
  /** A stored task of `targets` whose sub-tasks have these statuses (none: not yet written). */
  const storeTask = async (status: TaskStatus, targets: string[], subs: SubtaskStatus[] = [], extra = {}) => {
    const task: BatchTaskRecord = {
      project: 'p',
      taskId: 't1',
      taskName: 'n',
      taskType: 'createCommands',
      document: {},
      targets,
      status,
      progress: { ...progressOf(subs), total: targets.length },
      createdAt: clock.now(),
      startAt: clock.now(),
      run: 1,
      rerunFrom: 0,
      ...extra,
    };
    await deps.batchTasks.create(task);
    if (subs.length) {
      await deps.subtasks.addSubtasks(task, targets);
      for (const [seq, to] of subs.entries())
        if (to !== 'Waitting') await deps.subtasks.moveSubtask(task, { seq, status: 'Waitting' }, to);
    }
    return task;
  };
  const statusesSent = () => deps.notifier.sent.map((e) => e.notify_data.body.status);
  return { deps, clock, storeTask, statusesSent };
};

describe('prepareBatchTask', () => {
  it('writes the sub-tasks of a task created Initializing and moves it to Waitting, once', async () => {
    // Prepare
    const { deps, storeTask, statusesSent } = setup();
    const task = await storeTask('Initializing', ['a', 'b']);
    // Act
    const first = await prepareBatchTask(deps, task);
    const again = await prepareBatchTask(deps, task);
    // Assess
    expect([first, again]).toEqual([{ status: 'Waitting' }, { status: 'Waitting' }]);
    expect((await deps.subtasks.subtaskRange(task, 0, 1)).map((s) => [s.target, s.status])).toEqual([
      ['a', 'Waitting'],
      ['b', 'Waitting'],
    ]);
    expect(statusesSent()).toEqual(['Waitting']);
  });

  it('ends Fail a task whose create call died before all its targets were stored', async () => {
    const { deps, storeTask, statusesSent } = setup();
    const task = await storeTask('Initializing', ['a', 'b'], [], { targets: undefined });
    await deps.batchTasks.storeTargets(task, ['a']);

    expect(await prepareBatchTask(deps, task)).toEqual({ status: 'Fail' });

    expect((await deps.batchTasks.get(task))?.statusDesc).toBe('The task was interrupted while it was being created.');
    expect(statusesSent()).toEqual(['Fail']);
  });
});

describe('settleBatchTask', () => {
  it.each([
    { subs: ['Success', 'Success'], status: 'Success' },
    { subs: ['Success', 'Fail'], status: 'PartialSuccess' },
    { subs: ['Fail', 'Fail'], status: 'Fail' },
  ] as const)('ends a task whose sub-tasks are $subs $status, recounting its progress', async ({ subs, status }) => {
    const { deps, storeTask, statusesSent } = setup();
    // The stored counters are stale (a lost flush): settle counts the sub-tasks themselves.
    const task = await storeTask('Processing', ['a', 'b'], [...subs]);
    await deps.batchTasks.addProgress(task, { processing: 2 });

    expect(await settleBatchTask(deps, task)).toEqual({ status });

    expect((await deps.batchTasks.get(task))?.progress).toEqual({ ...progressOf(subs), total: 2 });
    expect(statusesSent()).toEqual([status]);
  });

  it('ends Fail a task whose run failed before its chunks ran (the Map caught a chunk failing all its retries)', async () => {
    const { deps, storeTask, statusesSent } = setup();
    const task = await storeTask('Processing', ['a', 'b'], ['Waitting', 'Waitting']);

    expect(await settleBatchTask(deps, task)).toEqual({ status: 'Fail' });

    expect(await deps.batchTasks.get(task)).toMatchObject({
      status: 'Fail',
      statusDesc: '0 of 2 sub-tasks failed. 2 did not run: the run failed.',
      progress: { waitting: 2 },
    });
    expect(statusesSent()).toEqual(['Fail']);
  });

  it('asks for another pass when a policy retry is due later, and records the pass on the task', async () => {
    const { deps, clock, storeTask } = setup();
    const task = await storeTask('Processing', ['a'], ['Waitting']);
    await deps.subtasks.moveSubtask(task, { seq: 0, status: 'Waitting' }, 'FailWaitRetry', {
      retryAt: clock.now() + 60_000,
    });

    const result = await settleBatchTask(deps, task);

    expect(result).toMatchObject({ status: 'Processing', pass: 2 });
    expect(Date.parse(result.retryAt!)).toBeGreaterThanOrEqual(clock.now() + 60_000);
    expect((await deps.batchTasks.get(task))?.pass).toBe(2);
  });

  it('keeps a stopping task Stopping while a sub-task is in flight, then ends it Stopped', async () => {
    const { deps, clock, storeTask, statusesSent } = setup();
    const task = await storeTask('Stopping', ['a', 'b'], ['Stopped', 'Waitting']);
    await deps.subtasks.moveSubtask(task, { seq: 1, status: 'Waitting' }, 'Processing', { claimedAt: clock.now() });

    expect(await settleBatchTask(deps, task)).toMatchObject({ status: 'Stopping', pass: 2 });
    await deps.subtasks.moveSubtask(task, { seq: 1, status: 'Processing', claimedAt: clock.now() }, 'Success');

    expect(await settleBatchTask(deps, { ...task, pass: 2 })).toEqual({ status: 'Stopped' });
    expect(statusesSent()).toEqual(['Stopped']);
  });
});

describe('runBatchChunk', () => {
  it('stops the waiting sub-tasks of a stopping task, counting each', async () => {
    const { deps, storeTask } = setup();
    const task = await storeTask('Stopping', ['a', 'b', 'c'], ['Success', 'Waitting', 'Waitting']);

    expect(await runBatchChunk(deps as never, { ...task, chunk: 0 })).toEqual({
      project: 'p',
      taskId: 't1',
      chunk: 0,
      run: 1,
    });

    expect((await deps.subtasks.subtaskStates(task)).map((s) => s.status)).toEqual(['Success', 'Stopped', 'Stopped']);
    expect((await deps.batchTasks.get(task))?.progress).toMatchObject({ waitting: 0, stopped: 2, success: 1 });
    expect(deps.metrics.counts).toEqual({ BatchSubtasksStopped: 2 });
  });

  it('does nothing for a run the task has moved on from', async () => {
    const { deps, storeTask } = setup();
    const task = await storeTask('Processing', ['a'], ['Waitting'], { run: 2 });

    await runBatchChunk(deps as never, { ...task, run: 1, chunk: 0 });

    expect((await deps.subtasks.subtaskStates(task)).map((s) => s.status)).toEqual(['Waitting']);
  });
});

describe('reviveBatchTasks', () => {
  it.each([
    { run: 'running', status: 'Processing', started: [] },
    { run: 'absent', status: 'Processing', started: [{ run: 1, reclaim: false }] },
    { run: 'ended', status: 'Processing', started: [{ run: 2, reclaim: true }] },
    { run: 'absent', status: 'Initializing', started: [] },
    { run: 'ended', status: 'Initializing', started: [{ run: 2, reclaim: true }] },
  ] as const)('a $status task whose execution is $run: starts $started', async ({ run, status, started }) => {
    const { deps, storeTask } = setup({ 't1-1-1': run });
    await storeTask(status, ['a'], status === 'Initializing' ? [] : ['Processing']);

    await reviveBatchTasks(deps);

    expect(deps.taskRunner.started.map((s) => ({ run: s.run, reclaim: s.reclaim }))).toEqual(started);
  });

  it('starts the run of a task left Initializing once its create call has had 5 minutes', async () => {
    const { deps, clock, storeTask } = setup();
    await storeTask('Initializing', ['a']);
    clock.advance(5 * 60_000 + 1);

    expect(await reviveBatchTasks(deps)).toBe(1);
    expect(deps.taskRunner.started).toMatchObject([{ run: 1, reclaim: false }]);
  });
});
