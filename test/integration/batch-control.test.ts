import { describe, expect, it } from 'vitest';
import { emptyProgress, newTaskId } from '../../shared/domain/batch-tasks.ts';
import { compactUtc } from '../../shared/time.ts';
import { reviveBatchTasks } from '../../shared/use-cases/revive-batch-tasks.ts';
import { answerWhenTold, batchClient, nobody } from '../support/batch.ts';
import {
  drainNotifications,
  expectInvalid,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';
import { connectDevice } from '../../tools/simulated-device.ts';

// A one-second minute, so policy retries (retry_interval minutes) and max_per_minute pacing play out in
// seconds; a silent device's sub-task fails after 5 s, ample for an answering device on a busy machine.
const runtime = await startTestRuntime({ commandTimeoutMs: 5_000, ttlMinuteMs: 1_000 });
const { api, tasks, onlineDevice, createTask, showTask, waitForTask, waitUntilFinished } = batchClient(runtime);
// Where a test needs things to stay as they are while it looks (paced sub-tasks not yet due, a command in
// flight), a minute lasts a minute and the sync wait longer than any test: the devices' answers decide.
const patient = await startTestRuntime({ commandTimeoutMs: 60_000, ttlMinuteMs: 60_000 });
const slow = batchClient(patient);

type Client = ReturnType<typeof batchClient>;
const post = (taskId: string, action: 'stop' | 'retry', body?: unknown, client: Client = batchClient(runtime)) =>
  client.api.call('POST', `${client.tasks}/${taskId}/${action}`, body);
const statuses = (body: any) =>
  Object.fromEntries(body.task_details.map((d: { target: string; status: string }) => [d.target, d.status]));
const commandsTo = (device: { onMessage(f: (m: { topic: string }) => void): void }) => {
  const seen = { count: 0 };
  device.onMessage((m) => void (m.topic.includes('/sys/commands/request_id=') && seen.count++));
  return seen;
};
const wrongState = (res: { status: number; body: any }, state: string | RegExp) => {
  expect(res.status).toBe(409);
  expect(res.body).toEqual({ error_code: 'DOWNLINK.409002', error_msg: expect.stringMatching(state) });
};

describe('stop', () => {
  it('stops a running task: what has not run is Stopped, what is in flight ends first, then the task is Stopped', async () => {
    const holding = await slow.onlineDevice({ reply: 'silent' });
    const answers = answerWhenTold(holding);
    const echo = await slow.onlineDevice();
    const ghosts = nobody(8, 'stopped');
    await drainNotifications(patient);
    // Two sub-tasks a minute: the ghosts wait for minutes that do not come before the stop.
    const created = await slow.createTask([holding.deviceId, echo.deviceId, ...ghosts], {
      task_policy: { max_per_minute: 2 },
    });
    const taskId = created.body.task_id as string;
    await slow.waitForTask(
      taskId,
      (b) => statuses(b)[holding.deviceId] === 'Processing' && statuses(b)[echo.deviceId] === 'Success',
      'the first two running',
    );

    const stop = await post(taskId, 'stop', undefined, slow);
    expect(stop).toMatchObject({ status: 200, body: { targets: [] } });
    // The held command is in flight until the device answers: the task waits for it, Stopping.
    expect((await slow.showTask(taskId)).batchtask.status).toBe('Stopping');
    wrongState(await post(taskId, 'stop', undefined, slow), 'Stopp');
    answers.answerAll();

    const done = await slow.waitUntilFinished(taskId);
    expect(done.batchtask).toMatchObject({ status: 'Stopped', status_desc: 'Stopped: 8 sub-tasks did not run.' });
    expect(done.batchtask.task_progress).toEqual({
      total: 10,
      processing: 0,
      success: 2,
      fail: 0,
      waitting: 0,
      fail_wait_retry: 0,
      stopped: 8,
      removed: 0,
    });
    const byTarget = statuses(done);
    expect([byTarget[holding.deviceId], byTarget[echo.deviceId]]).toEqual(['Success', 'Success']);
    expect(ghosts.filter((g) => byTarget[g] !== 'Stopped')).toEqual([]);
    const notices = (await drainNotifications(patient)).filter(
      (n) => n.resource === 'batchtask' && n.notify_data.body.task_id === taskId,
    );
    expect(notices.map((n) => n.notify_data.body.status)).toEqual(['Waitting', 'Processing', 'Stopped']);
    wrongState(await post(taskId, 'stop', undefined, slow), 'Stopped');
  });

  it('stops only the named targets, saying per target what it did, and the task runs on', async () => {
    const ghosts = nobody(6, 'partstop');
    const taskId = (await slow.createTask(ghosts, { task_policy: { max_per_minute: 2 } })).body.task_id as string;
    // The first minute's two have run; the others wait for minutes to come.
    await slow.waitForTask(
      taskId,
      (b) => statuses(b)[ghosts[0]!] === 'Fail' && statuses(b)[ghosts[1]!] === 'Fail',
      'the first minute run',
    );
    const res = await post(taskId, 'stop', { targets: [ghosts[4], ghosts[5], 'not-in-task', ghosts[4]] }, slow);
    expect(res.status).toBe(200);
    expect(res.body.targets).toEqual([
      { target: ghosts[4], status: 'success' },
      { target: ghosts[5], status: 'success' },
      { target: 'not-in-task', status: 'failure', error_code: 'DOWNLINK.404003', error_msg: expect.any(String) },
    ]);
    const running = await slow.showTask(taskId, 'limit=50');
    expect(running.batchtask.status).toBe('Processing');
    expect(ghosts.map((g) => statuses(running)[g])).toEqual([
      'Fail',
      'Fail',
      'Waitting',
      'Waitting',
      'Stopped',
      'Stopped',
    ]);
    // Ended here rather than after two more minutes.
    expect((await post(taskId, 'stop', undefined, slow)).status).toBe(200);
    const done = await slow.waitUntilFinished(taskId);
    expect(done.batchtask).toMatchObject({
      status: 'Stopped',
      task_progress: { total: 6, fail: 2, stopped: 4, waitting: 0 },
    });
  });
});

describe('progress', () => {
  it('shows the task Processing, with each sub-task as it stands, while a device has yet to answer', async () => {
    const fast = await slow.onlineDevice();
    const holding = await slow.onlineDevice({ reply: 'silent' });
    const answers = answerWhenTold(holding);
    const created = await slow.createTask([fast.deviceId, holding.deviceId]);
    const running = await slow.waitForTask(
      created.body.task_id,
      (b) => b.batchtask.status === 'Processing' && b.task_details[0].status === 'Success',
      'the task running',
    );
    expect(running.task_details[1]).toEqual({ target: holding.deviceId, status: 'Processing' });
    answers.answerAll();
    expect((await slow.waitUntilFinished(created.body.task_id)).batchtask.status).toBe('Success');
  });
});

describe('retry', () => {
  it('runs again the failed sub-tasks of an ended task, and only those', async () => {
    const echo = await slow.onlineDevice();
    const sent = commandsTo(echo);
    const { deviceId: late, secret } = await registerDevice(patient);
    const taskId = (await slow.createTask([late, echo.deviceId])).body.task_id as string;
    const first = await slow.waitUntilFinished(taskId);
    expect(first.batchtask.status).toBe('PartialSuccess');
    expect(first.task_details[0].error.error_code).toBe('IOTDA.014016');

    // The offline device comes online; a retry sends it the command, and nothing to the one that answered.
    const device = await connectDevice({
      deviceId: late,
      secret,
      port: Number(new URL(patient.mqttUrl).port),
      root: patient.topicRoot,
      reply: 'silent',
    });
    const answers = answerWhenTold(device);
    try {
      await waitForStatus(patient, late, 'ONLINE');
      const retry = await post(taskId, 'retry', {}, slow);
      expect(retry).toMatchObject({ status: 200, body: { targets: [] } });
      // Still running: the device holds its answer until told.
      wrongState(await post(taskId, 'retry', undefined, slow), 'Processing');
      answers.answerAll();
      const done = await slow.waitUntilFinished(taskId);
      expect(done.batchtask).toMatchObject({
        status: 'Success',
        task_progress: { total: 2, success: 2, fail: 0, processing: 0 },
      });
      expect(done.task_details[0]).toEqual({
        target: late,
        status: 'Success',
        output: expect.stringContaining('"response_name":"open"'),
      });
      expect(sent.count).toBe(1);
      wrongState(await post(taskId, 'retry', undefined, slow), 'Success');
    } finally {
      await device.close();
    }
  });

  it('retries a createMessages task: a ttl-0 message refused while the device was offline is sent once it is back', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const created = await api.call('POST', tasks, {
      task_name: 'notify',
      task_type: 'createMessages',
      targets: [deviceId],
      document: { message: { text: 'now or never' }, ttl: 0 },
    });
    const taskId = created.body.task_id as string;
    const first = await waitUntilFinished(taskId);
    expect(first.batchtask.status).toBe('Fail');
    expect(first.task_details[0].error.error_code).toBe('IOTDA.014016');

    const device = await connectDevice({
      deviceId,
      secret,
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
    });
    try {
      const got: string[] = [];
      device.onMessage((m) => void (m.topic.endsWith('/sys/messages/down') && got.push(m.payload.toString())));
      await waitForStatus(runtime, deviceId, 'ONLINE');
      await waitForQueueIdle(runtime, 'presence');
      expect((await post(taskId, 'retry')).status).toBe(200);
      const done = await waitUntilFinished(taskId);
      expect(done.batchtask.status).toBe('Success');
      expect(JSON.parse(done.task_details[0].output)).toEqual({ message_id: taskId, status: 'DELIVERED' });
      await waitFor(async () => (got.length ? true : undefined), 'the message');
      expect(got.map((p) => JSON.parse(p).content)).toEqual([{ text: 'now or never' }]);
    } finally {
      await device.close();
    }
  });

  it('retries only the named targets', async () => {
    const ghosts = nobody(3, 'partretry');
    const taskId = (await createTask(ghosts)).body.task_id as string;
    await waitUntilFinished(taskId);
    const res = await post(taskId, 'retry', { targets: [ghosts[1], 'not-in-task'] });
    expect(res.body.targets).toEqual([
      { target: ghosts[1], status: 'success' },
      { target: 'not-in-task', status: 'failure', error_code: 'DOWNLINK.404003', error_msg: expect.any(String) },
    ]);
    const done = await waitUntilFinished(taskId);
    expect(done.batchtask).toMatchObject({
      status: 'Fail',
      task_progress: { total: 3, fail: 3, waitting: 0, processing: 0 },
    });
  });

  it('retries a failed sub-task on the task_policy schedule (FailWaitRetry), and ends Fail once the retries are used up', async () => {
    // The device does not answer its first command (it times out), then answers: its retry succeeds.
    const device = await onlineDevice({ reply: 'silent' });
    const answers = answerWhenTold(device);
    const ghost = nobody(1, 'policyretry')[0]!;
    const taskId = (await createTask([device.deviceId, ghost], { task_policy: { retry_count: 2, retry_interval: 1 } }))
      .body.task_id as string;
    const waiting = await waitForTask(
      taskId,
      (b) => statuses(b)[device.deviceId] === 'FailWaitRetry' && b.batchtask.task_progress.fail_wait_retry > 0,
      'a sub-task waiting to retry',
    );
    expect(waiting.batchtask.status).toBe('Processing');
    expect(waiting.task_details[0].error.error_code).toBe('IOTDA.014111');

    answers.answerAll();
    const done = await waitUntilFinished(taskId);
    expect(statuses(done)).toEqual({ [device.deviceId]: 'Success', [ghost]: 'Fail' });
    expect(done.batchtask).toMatchObject({
      status: 'PartialSuccess',
      task_progress: { total: 2, success: 1, fail: 1, fail_wait_retry: 0 },
    });
  });
});

describe('task_policy', () => {
  it('paces first attempts at max_per_minute: no sub-task starts before its minute', async () => {
    const ghosts = nobody(7, 'paced');
    const taskId = (await createTask(ghosts, { task_policy: { max_per_minute: 3 } })).body.task_id as string;
    await waitUntilFinished(taskId);
    const key = { project: runtime.project, taskId };
    const task = (await runtime.deps.batchTasks.get(key))!;
    const subs = await runtime.deps.subtasks.subtaskRange(key, 0, 6);
    // Minute m (a second here) starts sub-tasks 3m..3m+2; the last minute's one starts two minutes in.
    for (const s of subs)
      expect(s.claimedAt!, s.target).toBeGreaterThanOrEqual(task.startAt + Math.floor(s.seq / 3) * 1_000);
    expect(Math.max(...subs.map((s) => s.claimedAt!)) - task.startAt).toBeGreaterThanOrEqual(2_000);
  });

  it('waits for schedule_time, Waitting until then', async () => {
    // An hour ahead: Waitting however slow the machine.
    const later = (
      await createTask(nobody(1, 'later'), { task_policy: { schedule_time: compactUtc(Date.now() + 3_600_000) } })
    ).body.task_id as string;
    expect((await showTask(later)).batchtask).toMatchObject({ status: 'Waitting', task_progress: { waitting: 1 } });
    expect((await post(later, 'stop')).status).toBe(200);
    expect((await waitUntilFinished(later)).batchtask).toMatchObject({
      status: 'Stopped',
      task_progress: { stopped: 1 },
    });

    // Two seconds ahead: it runs once due, never before.
    const soon = (
      await createTask(nobody(1, 'scheduled'), { task_policy: { schedule_time: compactUtc(Date.now() + 2_000) } })
    ).body.task_id as string;
    const done = await waitUntilFinished(soon);
    expect(done.batchtask.status).toBe('Fail');
    expect(done.task_details[0].error.error_code).toBe('IOTDA.014000');
    const key = { project: runtime.project, taskId: soon };
    const task = (await runtime.deps.batchTasks.get(key))!;
    expect(task.startAt).toBeGreaterThan(task.createdAt);
    expect((await runtime.deps.subtasks.subtaskRange(key, 0, 0))[0]!.claimedAt).toBeGreaterThanOrEqual(task.startAt);
  });

  it('aborts once the failures reach abort_on_failure_percent: nothing more runs, and status_desc says why', async () => {
    // 50 a minute, and a minute lasts a minute: the first 50 fail at once, and the abort is written a minute
    // before the next 50 are due, however loaded the machine. (How a Stopping task ends: the stop tests.)
    const taskId = (
      await slow.createTask(nobody(200, 'abort'), {
        task_policy: { max_per_minute: 50, abort_on_failure_percent: 50, abort_min_count: 20 },
      })
    ).body.task_id as string;
    const aborted = await slow.waitForTask(taskId, (b) => b.batchtask.status === 'Stopping', 'the abort');
    expect(aborted.batchtask).toMatchObject({
      status_desc: expect.stringMatching(
        /^Aborted: 50 of 50 ended sub-tasks failed, at or over abort_on_failure_percent 50/,
      ),
      task_progress: { total: 200, fail: 50, success: 0, processing: 0, waitting: 150 },
    });
  });
});

describe('delete', () => {
  it('deletes a finished task with its sub-tasks; a running one is refused', async () => {
    const running = (await createTask(nobody(4, 'delrun'), { task_policy: { max_per_minute: 1 } })).body
      .task_id as string;
    // Waitting, or Processing once its first sub-task has run: running either way.
    wrongState(await api.call('DELETE', `${tasks}/${running}`), /Waitting|Processing/);
    await post(running, 'stop');

    const ghosts = nobody(150, 'deleted');
    const taskId = (await createTask(ghosts)).body.task_id as string;
    await waitUntilFinished(taskId);
    expect(await runtime.deps.batchTasks.targets({ project: runtime.project, taskId }, ghosts.length)).toEqual(ghosts);
    const res = await api.call('DELETE', `${tasks}/${taskId}`);
    expect(res.status).toBe(204);
    expect((await api.call('GET', `${tasks}/${taskId}`)).status).toBe(404);
    expect((await api.call('DELETE', `${tasks}/${taskId}`)).body.error_code).toBe('DOWNLINK.404002');
    const listed = (await api.call('GET', `${tasks}?task_type=createCommands&limit=50`)).body.batchtasks.map(
      (t: { task_id: string }) => t.task_id,
    );
    expect(listed).not.toContain(taskId);
    const key = { project: runtime.project, taskId };
    // Its target parts (150: over INLINE_TARGETS, so stored beside the task) go too.
    expect(await runtime.deps.batchTasks.targets(key, ghosts.length)).toEqual([]);
    expect(await runtime.deps.subtasks.subtaskRange(key, 0, 99)).toEqual([]);
    expect(await runtime.deps.subtasks.subtaskRange(key, 100, 149)).toEqual([]);
    expect(await runtime.deps.batchTasks.deleting(100)).not.toContainEqual(key);
  });
});

describe('batch sweeper', () => {
  // These states come only from a process dying at one line (a create call before StartExecution, a settle
  // failing every retry): no public call makes them, so the tests write them through the stores.
  it('starts a run whose start was lost, and resumes one whose execution ended with the task unfinished', async () => {
    // A task stored Waitting by a create call that died before starting its execution.
    const now = Date.now();
    const lost = {
      project: runtime.project,
      taskId: newTaskId(now),
      taskName: 'lost',
      taskType: 'createCommands' as const,
      document: { paras: {} },
      status: 'Waitting' as const,
      progress: { ...emptyProgress(), total: 2, waitting: 2 },
      createdAt: now,
      startAt: now,
      run: 1,
      rerunFrom: 0,
    };
    await runtime.deps.batchTasks.create(lost);
    await runtime.deps.subtasks.addSubtasks(lost, nobody(2, 'lost'));
    // A task whose execution ended while the task itself did not (its settle failed every retry).
    const ended = (await createTask(nobody(1, 'ended'))).body.task_id as string;
    await waitUntilFinished(ended);
    const key = { project: runtime.project, taskId: ended };
    const stuck = (await runtime.deps.batchTasks.get(key))!;
    expect(await runtime.deps.batchTasks.moveTask(stuck, ['Fail'], 'Processing')).toBe(true);

    // The runtime's own sweeper (every 5 s here) may get there first; either way both end.
    await reviveBatchTasks(runtime.deps);
    expect((await waitUntilFinished(lost.taskId)).batchtask).toMatchObject({
      status: 'Fail',
      task_progress: { fail: 2 },
    });
    expect((await waitUntilFinished(ended)).batchtask).toMatchObject({ status: 'Fail', task_progress: { fail: 1 } });
    expect((await runtime.deps.batchTasks.get(key))!.run).toBe(2);
    // Nothing left to revive: running or ended runs of ended tasks are left alone.
    expect(await reviveBatchTasks(runtime.deps)).toBe(0);
  });

  it('prepares a small task whose create call died before its sub-tasks, from the targets on the task item', async () => {
    // Stored Initializing with its targets (at most 100 live on the item), none of its sub-tasks written.
    const now = Date.now();
    const targets = nobody(2, 'uncut');
    const cut = {
      project: runtime.project,
      taskId: newTaskId(now),
      taskName: 'uncut',
      taskType: 'createCommands' as const,
      document: { paras: {} },
      targets,
      status: 'Initializing' as const,
      progress: { ...emptyProgress(), total: 2, waitting: 2 },
      createdAt: now - 10 * 60_000,
      startAt: now,
      run: 1,
      rerunFrom: 0,
    };
    await runtime.deps.batchTasks.create(cut);
    // The runtime's own sweeper may start it first; either way the run's first step writes the sub-tasks.
    await reviveBatchTasks(runtime.deps);
    const done = await waitUntilFinished(cut.taskId);
    expect(done.batchtask).toMatchObject({
      status: 'Fail',
      targets,
      task_progress: { total: 2, fail: 2, waitting: 0 },
    });
    expect(done.batchtask.status_desc).not.toMatch(/interrupted/);
    expect(done.task_details.map((d: { target: string }) => d.target).sort()).toEqual([...targets].sort());
  });
});

describe('bad input', () => {
  it.each([
    { task_policy: { max_per_minute: 0 }, field: 'max_per_minute' },
    { task_policy: { max_per_minute: 100_001 }, field: 'max_per_minute' },
    { task_policy: { abort_on_failure_percent: 101 }, field: 'abort_on_failure_percent' },
    { task_policy: { abort_min_count: 5 }, field: 'abort_min_count' },
    { task_policy: { schedule_time: compactUtc(Date.now() - 3_600_000) }, field: 'schedule_time' },
    { task_policy: { schedule_time: compactUtc(Date.now() + 8 * 24 * 3_600_000) }, field: 'schedule_time' },
    { task_policy: { schedule_time: '20261331T000000Z' }, field: 'schedule_time' },
  ])('refuses the task_policy $task_policy, naming $field', async ({ task_policy, field }) => {
    expectInvalid(await createTask(nobody(2, 'badpolicy'), { task_policy }), field);
  });

  it('refuses a pace that would outlive what one execution can record', async () => {
    // 2 000 targets at one a minute would outlive what one execution can record.
    expectInvalid(
      await createTask(nobody(2_000, 'slow'), { task_policy: { max_per_minute: 1 } }),
      'max_per_minute must be at least 2',
    );
  });

  it('refuses stop and retry bodies with too many or bad targets, and unknown tasks', async () => {
    const taskId = (await createTask(nobody(1, 'badbody'))).body.task_id as string;
    await waitUntilFinished(taskId);
    expectInvalid(await post(taskId, 'retry', { targets: nobody(101, 'many') }), 'targets');
    expectInvalid(await post(taskId, 'retry', { targets: ['not ok'] }), 'targets.0');
    expectInvalid(await post('not-a-task', 'stop'), 'task_id');
    expect((await post('0123456789abcdef01234567', 'stop')).body.error_code).toBe('DOWNLINK.404002');
    expect((await api.call('DELETE', `${tasks}/0123456789abcdef01234567`)).status).toBe(404);
  });
});
