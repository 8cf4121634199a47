import { describe, expect, it } from 'vitest';
import { BATCH_WORKFLOW } from '../../functions/manifest.ts';
import { chunkCount, emptyProgress, MAX_TARGETS, newTaskId } from '../../shared/domain/batch-tasks.ts';
import { purgeDeletedBatchTasks } from '../../shared/use-cases/control-batch-task.ts';
import { reviveBatchTasks } from '../../shared/use-cases/revive-batch-tasks.ts';
import { answerWhenTold, batchClient, nobody } from '../support/batch.ts';
import { startTestRuntime, waitFor } from '../support/runtime.ts';

// A sync wait and a minute longer than the test, however slow the machine: the held device's answer decides
// when its sub-task ends, and no policy retry comes due before the stop.
const runtime = await startTestRuntime({ commandTimeoutMs: 900_000, ttlMinuteMs: 900_000 });
const { api, tasks, onlineDevice, createTask, showTask, waitUntilFinished } = batchClient(runtime);

/** The executions of one task's runs, as the local Step Functions endpoint counts their history. */
const executionsOf = (taskId: string) => runtime.batchExecutions().filter((e) => e.name.startsWith(`${taskId}-`));

// What one pass over n chunks records, counted high (local/step-functions.ts awsEvents): per Map iteration its
// start and end, the chunk call (6) and two states (2 each); around them Prepare, Scheduled, the Map, Settle,
// Again, NextPass, Ended and the execution's own start and end. Two passes in one execution exceed it.
const onePass = (chunks: number) => 13 * chunks + 60;

describe('a batch task at the limits', () => {
  it('accepts 30 000 targets at once, Initializing, and keeps every execution to one pass through a stop, whatever retry_count', {
    timeout: 600_000,
  }, async () => {
    // One device holds its command until told: the stop then waits for it, pass after pass.
    const held = await onlineDevice({ reply: 'silent' });
    const answers = answerWhenTold(held);
    const commanded = held.nextMessage((m) => m.topic.includes('/sys/commands/request_id='), 300_000);
    // The others are not devices: each sub-task fails at once (IOTDA.014000), to be retried five times.
    const targets = [held.deviceId, ...nobody(MAX_TARGETS - 1, 'limit')];
    const created = await createTask(targets, { task_policy: { retry_count: 5, retry_interval: 1 } });
    expect(created.status).toBe(201);
    // Answered before the sub-tasks exist: the targets are stored in a few items, the run writes the rest.
    expect(created.body).toMatchObject({
      status: 'Initializing',
      task_progress: { total: MAX_TARGETS, waitting: MAX_TARGETS },
    });
    expect(created.body.targets).toHaveLength(MAX_TARGETS);
    const taskId = created.body.task_id as string;
    const early = await showTask(taskId, 'limit=1');
    expect(['Initializing', 'Waitting', 'Processing']).toContain(early.batchtask.status);
    expect(early.batchtask.task_progress.total).toBe(MAX_TARGETS);
    // ShowBatchTask reads the stored parts, whether or not the run's first step has written the sub-tasks.
    expect(early.batchtask.targets).toEqual(targets);

    // The held device has its command: the run is under way. Stopped now, the task waits for that command.
    await commanded;
    expect((await api.call('POST', `${tasks}/${taskId}/stop`)).status).toBe(200);
    // Each look of the stop run at the command in flight is a pass, and each pass an execution of its own.
    await waitFor(
      async () => (executionsOf(taskId).some((e) => e.name === `${taskId}-2-2`) ? true : undefined),
      'a second pass of the stop run',
      300_000,
    );
    answers.answerAll();
    const done = await waitUntilFinished(taskId, 300_000);
    await waitFor(
      async () => (executionsOf(taskId).every((e) => e.status !== 'RUNNING') ? true : undefined),
      'every execution to end',
      60_000,
    );

    expect(done.batchtask.status).toBe('Stopped');
    const p = done.batchtask.task_progress;
    expect(p).toMatchObject({ total: MAX_TARGETS, processing: 0, waitting: 0, fail_wait_retry: 0, success: 1 });
    expect(p.fail + p.stopped + p.success).toBe(MAX_TARGETS);
    expect(done.task_details[0]).toMatchObject({ target: held.deviceId, status: 'Success' });
    // The parts outlive the run: a finished task still shows every target.
    expect(done.batchtask.targets).toEqual(targets);
    // Pages by status still count from the progress counters and read the chunks in order.
    const stopped = await showTask(taskId, 'task_detail_status=Stopped&limit=2');
    expect(stopped.page.count).toBe(p.stopped);
    expect(stopped.task_details).toHaveLength(Math.min(2, p.stopped));

    const executions = executionsOf(taskId);
    const bound = onePass(chunkCount(MAX_TARGETS));
    console.log(
      `history events of the ${executions.length} executions: ${executions.map((e) => `${e.name.slice(25)} ${e.events}`).join(', ')} (one pass at most ${bound})`,
    );
    expect(bound).toBeLessThan(BATCH_WORKFLOW.maxHistoryEvents);
    // The first run, superseded by the stop, and the stop run's passes: each is one pass, none near the cap.
    expect(executions.map((e) => e.name.slice(25))).toEqual(expect.arrayContaining(['1', '2', '2-2']));
    for (const e of executions) {
      expect(e.status, e.name).toBe('SUCCEEDED');
      expect(e.events, e.name).toBeGreaterThan(0);
      expect(e.events, e.name).toBeLessThanOrEqual(bound);
    }

    // Deleting the task removes its stored target parts with its sub-tasks.
    expect((await api.call('DELETE', `${tasks}/${taskId}`)).status).toBe(204);
    const key = { project: runtime.project, taskId };
    // 30,000 sub-tasks outlast the call's own purge (the sweeper's part on AWS): the purge here finishes it.
    await purgeDeletedBatchTasks(runtime.deps);
    expect(await runtime.deps.batchTasks.deleting(100)).not.toContainEqual(key);
    expect(await runtime.deps.batchTasks.targets(key, MAX_TARGETS)).toEqual([]);
    expect(await runtime.deps.subtasks.subtaskRange(key, 0, 99)).toEqual([]);
  });
});

describe('the batch sweeper after a crash between the steps of a large task', () => {
  it('starts a later pass whose execution was never started, and the first run of a task left Initializing, resetting no sub-task', async () => {
    const now = Date.now();
    const base = {
      project: runtime.project,
      taskType: 'createCommands' as const,
      document: { paras: {} },
      createdAt: now - 10 * 60_000,
      startAt: now,
      run: 1,
      rerunFrom: 0,
    };
    const progress = (n: number) => ({ ...emptyProgress(), total: n, waitting: n });
    // Settle recorded pass 2, then the NextPass state never ran.
    const passed = {
      ...base,
      taskId: newTaskId(now),
      taskName: 'passed',
      status: 'Processing' as const,
      progress: progress(2),
      pass: 2,
    };
    await runtime.deps.batchTasks.create(passed);
    await runtime.deps.subtasks.addSubtasks(passed, nobody(2, 'passed'));
    // A large task's create call stored the targets and the task, then died before starting the run.
    const stored = {
      ...base,
      taskId: newTaskId(now),
      taskName: 'stored',
      status: 'Initializing' as const,
      progress: progress(3),
    };
    await runtime.deps.batchTasks.storeTargets(stored, nobody(3, 'stored'));
    await runtime.deps.batchTasks.create(stored);
    // ... and a first Prepare had written one sub-task, since moved on: the next one must not reset it.
    await runtime.deps.subtasks.addSubtasks(stored, nobody(1, 'stored'));
    expect(await runtime.deps.subtasks.moveSubtask(stored, { seq: 0, status: 'Waitting' }, 'Stopped')).toBe(true);
    // A small task's create call died while writing its sub-tasks: no targets stored, and no 201 was sent.
    const cut = {
      ...base,
      taskId: newTaskId(now),
      taskName: 'cut',
      status: 'Initializing' as const,
      progress: progress(3),
    };
    await runtime.deps.batchTasks.create(cut);
    await runtime.deps.subtasks.addSubtasks(cut, nobody(1, 'cut'));

    expect(await reviveBatchTasks(runtime.deps)).toBeGreaterThanOrEqual(3);
    expect((await waitUntilFinished(passed.taskId)).batchtask).toMatchObject({
      status: 'Fail',
      task_progress: { total: 2, fail: 2 },
    });
    expect(executionsOf(passed.taskId).map((e) => e.name)).toEqual([`${passed.taskId}-1-2`]);
    const prepared = await waitUntilFinished(stored.taskId);
    expect(prepared.batchtask).toMatchObject({
      status: 'Fail',
      task_progress: { total: 3, fail: 2, stopped: 1, waitting: 0 },
    });
    expect(prepared.task_details.map((d: { target: string; status: string }) => [d.target, d.status])).toEqual(
      nobody(3, 'stored').map((target, i) => [target, i === 0 ? 'Stopped' : 'Fail']),
    );
    // Its stored targets stay once the sub-tasks are written (ShowBatchTask shows them until a delete).
    expect(await runtime.deps.batchTasks.targets(stored, 3)).toEqual(nobody(3, 'stored'));
    expect((await waitUntilFinished(cut.taskId)).batchtask).toMatchObject({
      status: 'Fail',
      status_desc: 'The task was interrupted while it was being created.',
    });
  });
});
