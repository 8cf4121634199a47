import { describe, expect, it } from 'vitest';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import { runBatchChunk } from '../../shared/use-cases/run-batch-chunk.ts';
import { settleBatchTask } from '../../shared/use-cases/settle-batch-task.ts';
import { batchClient, nobody } from '../support/batch.ts';
import { drainNotifications, expectInvalid, registerDevice, startTestRuntime, waitFor } from '../support/runtime.ts';

// A short sync wait: a silent device's sub-task fails with IOTDA.014111 after 5 s, still ample for an
// answering device on a busy machine.
const runtime = await startTestRuntime({ commandTimeoutMs: 5_000 });
const { api, tasks, command, onlineDevice, createTask, waitUntilFinished } = batchClient(runtime);

const taskNotices = (all: NotificationEnvelope[], taskId: string) =>
  all.filter((n) => n.resource === 'batchtask' && n.notify_data.body.task_id === taskId);

describe('createCommands task', () => {
  it('ends PartialSuccess over online, offline, silent and unknown devices, with each target result', async () => {
    const online = await onlineDevice({ reply: 'fixed', fixedReply: { result_code: 0, paras: { opened: true } } });
    const echo = await onlineDevice();
    const silent = await onlineDevice({ reply: 'silent' });
    const { deviceId: offline } = await registerDevice(runtime);
    const unknown = 'no-such-device';
    await drainNotifications(runtime);
    const received = echo.nextMessage((m) => m.topic.includes('/sys/commands/request_id='));

    // The repeated target is one sub-task.
    const targets = [online.deviceId, offline, silent.deviceId, unknown, echo.deviceId, online.deviceId];
    const created = await createTask(targets);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      task_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      task_name: 'open_valves',
      task_type: 'createCommands',
      targets: targets.slice(0, 5),
      document: command,
      status: 'Waitting',
      task_progress: { total: 5, waitting: 5, processing: 0, success: 0, fail: 0 },
      create_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
    });

    const done = await waitUntilFinished(created.body.task_id);
    expect(done.batchtask.status).toBe('PartialSuccess');
    expect(done.batchtask.task_progress).toEqual({
      total: 5,
      processing: 0,
      success: 2,
      fail: 3,
      waitting: 0,
      fail_wait_retry: 0,
      stopped: 0,
      removed: 0,
    });
    expect(done.task_details).toEqual([
      {
        target: online.deviceId,
        status: 'Success',
        output: JSON.stringify({ result_code: 0, paras: { opened: true } }),
      },
      { target: offline, status: 'Fail', error: { error_code: 'IOTDA.014016', error_msg: expect.any(String) } },
      { target: silent.deviceId, status: 'Fail', error: { error_code: 'IOTDA.014111', error_msg: expect.any(String) } },
      { target: unknown, status: 'Fail', error: { error_code: 'IOTDA.014000', error_msg: expect.any(String) } },
      {
        target: echo.deviceId,
        status: 'Success',
        output: JSON.stringify({ result_code: 0, response_name: 'open', paras: { level: 3 } }),
      },
    ]);
    expect(done.page).toEqual({ count: 5, marker: expect.stringMatching(/^[0-9a-f]{24}$/) });
    // The device got the single-device command, on its own command topic.
    expect(JSON.parse((await received).payload.toString())).toEqual(command);
  });

  it('notifies Waitting, Processing and the final status as batchtask/update envelopes without a header', async () => {
    const device = await onlineDevice();
    await drainNotifications(runtime);
    const created = await createTask([device.deviceId]);
    await waitUntilFinished(created.body.task_id);
    const notices = await waitFor(async () => {
      const got = taskNotices(await drainNotifications(runtime), created.body.task_id);
      return got.length ? got : undefined;
    }, 'batch task notifications');
    expect(notices.map((n) => n.notify_data.body.status)).toEqual(['Waitting', 'Processing', 'Success']);
    expect(notices[2]).toEqual({
      resource: 'batchtask',
      event: 'update',
      event_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
      event_time_ms: expect.any(String),
      request_id: expect.any(String),
      notify_data: {
        body: {
          app_id: runtime.project,
          task_id: created.body.task_id,
          task_type: 'createCommands',
          status: 'Success',
          status_desc: expect.any(String),
        },
      },
    });
  });

  it('sends nothing twice when a chunk or the settle step runs again (a Step Functions retry)', async () => {
    const device = await onlineDevice();
    let commands = 0;
    device.onMessage((m) => void (m.topic.includes('/sys/commands/request_id=') && commands++));
    const created = await createTask([device.deviceId]);
    const key = { project: runtime.project, taskId: created.body.task_id as string, run: 1 };
    await waitUntilFinished(key.taskId);
    await drainNotifications(runtime);

    await runBatchChunk(runtime.deps, { ...key, chunk: 0 });
    expect(await settleBatchTask(runtime.deps, key)).toEqual({ status: 'Success' });
    expect(commands).toBe(1);
    expect(taskNotices(await drainNotifications(runtime), key.taskId)).toEqual([]);
    // A late counter flush of a chunk call that outlived its state (timed out, retried) changes nothing now.
    await runtime.deps.batchTasks.addProgress(key, { processing: -1, success: 1 });
    expect((await api.call('GET', `${tasks}/${key.taskId}`)).body.batchtask.task_progress).toMatchObject({
      total: 1,
      success: 1,
      processing: 0,
    });
  });

  it('ends Fail when every sub-task fails, over several chunks', async () => {
    const created = await createTask(nobody(250));
    expect(created.status).toBe(201);
    const done = await waitUntilFinished(created.body.task_id);
    expect(done.batchtask).toMatchObject({
      status: 'Fail',
      task_progress: { total: 250, fail: 250, success: 0, waitting: 0, processing: 0 },
    });
  });
});

describe('sub-task pages', () => {
  const targets = nobody(120, 'pager');
  let taskId: string;
  const show = (query: string) => api.call('GET', `${tasks}/${taskId}?${query}`);

  it('pages sub-tasks in target order with marker and offset, as IoTDA pages', async () => {
    taskId = (await createTask(targets)).body.task_id;
    await waitUntilFinished(taskId);

    const first = await show('limit=50');
    expect(first.body.task_details.map((d: { target: string }) => d.target)).toEqual(targets.slice(0, 50));
    expect(first.body.page.count).toBe(120);
    const second = await show(`limit=50&marker=${first.body.page.marker}`);
    expect(second.body.task_details.map((d: { target: string }) => d.target)).toEqual(targets.slice(50, 100));
    const skipped = await show(`limit=5&offset=10&marker=${first.body.page.marker}`);
    expect(skipped.body.task_details.map((d: { target: string }) => d.target)).toEqual(targets.slice(60, 65));
    const last = await show(`limit=50&marker=${second.body.page.marker}`);
    expect(last.body.task_details).toHaveLength(20);
    expect((await show('')).body.task_details).toHaveLength(10);
    // Past the last sub-task: an empty page, still counting every match.
    const beyond = await show(`marker=${last.body.page.marker}`);
    expect(beyond.body).toMatchObject({ task_details: [], page: { count: 120 } });
  });

  it('shows all the targets of a task over 100 in ShowBatchTask, whatever the page, and leaves them out of ListBatchTasks rows', async () => {
    expect((await show('limit=1')).body.batchtask.targets).toEqual(targets);
    expect((await show(`target=${targets[7]}`)).body.batchtask.targets).toEqual(targets);
    const row = (await api.call('GET', `${tasks}?task_type=createCommands&limit=50`)).body.batchtasks.find(
      (t: { task_id: string }) => t.task_id === taskId,
    );
    expect(row).toMatchObject({ task_id: taskId, task_progress: { total: 120 } });
    expect(row.targets).toBeUndefined();
  });

  it('filters sub-tasks by status and by target', async () => {
    const failed = await show('task_detail_status=Fail&limit=3&offset=2');
    expect(failed.body.task_details.map((d: { target: string }) => d.target)).toEqual(targets.slice(2, 5));
    expect(failed.body.page.count).toBe(120);
    // Across the boundary of the two chunks (sub-tasks are stored per chunk of 100).
    const across = await show('task_detail_status=Fail&limit=50&offset=80');
    expect(across.body.task_details.map((d: { target: string }) => d.target)).toEqual(targets.slice(80, 120));
    expect((await show('task_detail_status=Success')).body).toMatchObject({ task_details: [], page: { count: 0 } });
    const one = await show(`target=${targets[7]}`);
    expect(one.body.task_details).toEqual([
      { target: targets[7], status: 'Fail', error: expect.objectContaining({ error_code: 'IOTDA.014000' }) },
    ]);
    expect(one.body.page.count).toBe(1);
    expect((await show(`target=${targets[7]}&task_detail_status=Success`)).body.page.count).toBe(0);
  });
});

describe('task list', () => {
  it('lists tasks newest first, paged by marker and offset, filtered by status', async () => {
    const a = (await createTask(nobody(1, 'lista'))).body.task_id as string;
    const b = (await createTask(nobody(1, 'listb'))).body.task_id as string;
    expect(b > a).toBe(true);
    await waitUntilFinished(a);
    await waitUntilFinished(b);

    const page = await api.call('GET', `${tasks}?task_type=createCommands&limit=2`);
    expect(page.status).toBe(200);
    expect(page.body.batchtasks.map((t: { task_id: string }) => t.task_id)).toEqual([b, a]);
    expect(page.body.batchtasks[0]).toMatchObject({
      task_name: 'open_valves',
      status: 'Fail',
      task_progress: { total: 1 },
    });
    // IoTDA's Task object carries its targets, in the list too.
    expect(page.body.batchtasks[0].targets).toEqual(nobody(1, 'listb'));
    expect(page.body.batchtasks[1].targets).toEqual(nobody(1, 'lista'));
    expect(page.body.page).toEqual({ count: expect.any(Number), marker: a });

    const all = await api.call('GET', `${tasks}?task_type=createCommands&limit=50`);
    const ids = all.body.batchtasks.map((t: { task_id: string }) => t.task_id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(all.body.page.count).toBe(ids.length);
    const next = await api.call('GET', `${tasks}?task_type=createCommands&limit=1&marker=${b}`);
    expect(next.body.batchtasks.map((t: { task_id: string }) => t.task_id)).toEqual([a]);
    const offset = await api.call('GET', `${tasks}?task_type=createCommands&limit=1&offset=1`);
    expect(offset.body.batchtasks.map((t: { task_id: string }) => t.task_id)).toEqual([a]);

    const failed = await api.call('GET', `${tasks}?task_type=createCommands&status=Fail&limit=50`);
    expect(failed.body.batchtasks.every((t: { status: string }) => t.status === 'Fail')).toBe(true);
    expect(failed.body.batchtasks.map((t: { task_id: string }) => t.task_id)).toEqual(expect.arrayContaining([a, b]));
    expect((await api.call('GET', `${tasks}?task_type=createCommands&status=Processing`)).body.batchtasks).toEqual([]);
    expect((await api.call('GET', `${tasks}?task_type=createMessages`)).body).toEqual({
      batchtasks: [],
      page: { count: 0 },
    });
  });
});

describe('bad input', () => {
  const body = { task_name: 'bad', task_type: 'createCommands', targets: ['d-1'], document: command };

  it.each([
    { change: { task_name: undefined }, field: 'task_name' },
    { change: { task_name: 'has space' }, field: 'task_name' },
    { change: { task_type: 'rebootDevices' }, field: 'task_type' },
    { change: { targets: [] }, field: 'targets' },
    { change: { targets: nobody(30_001) }, field: 'targets' },
    { change: { targets: ['ok', 'not ok'] }, field: 'targets.1' },
    { change: { document: { service_id: 'Valve' } }, field: 'document.paras' },
    { change: { document: { paras: 'open' } }, field: 'document.paras' },
    { change: { document: undefined }, field: 'document' },
    { change: { task_policy: { retry_count: 2 } }, field: 'retry_count' },
    { change: { task_policy: { retry_count: 6, retry_interval: 5 } }, field: 'retry_count' },
  ])('refuses a create body with $field missing, wrong or unsupported, naming it', async ({ change, field }) => {
    expectInvalid(await api.call('POST', tasks, { ...body, ...change }), field);
  });

  it('refuses a create body that is not JSON', async () => {
    expect((await api.call('POST', tasks, '{not json')).body.error_code).toBe('IOTDA.000008');
  });

  it('stores an accepted task_policy and shows it', async () => {
    const res = await api.call('POST', tasks, {
      ...body,
      targets: nobody(1, 'policy'),
      task_policy: { retry_count: 2, retry_interval: 5 },
    });
    expect(res.status).toBe(201);
    expect(res.body.task_policy).toEqual({ retry_count: 2, retry_interval: 5 });
    expect((await api.call('GET', `${tasks}/${res.body.task_id}`)).body.batchtask.task_policy).toEqual({
      retry_count: 2,
      retry_interval: 5,
    });
  });

  it('answers an unknown task with 404 DOWNLINK.404002, and a bad id or page with 400', async () => {
    const missing = await api.call('GET', `${tasks}/0123456789abcdef01234567`);
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('DOWNLINK.404002');
    expectInvalid(await api.call('GET', `${tasks}/not-a-task-id`), 'task_id');
    expectInvalid(await api.call('GET', tasks), 'task_type');
    expectInvalid(await api.call('GET', `${tasks}?task_type=createCommands&status=Finished`), 'status');
  });

  it.each([
    { query: 'limit=0', field: 'limit' },
    { query: 'limit=51', field: 'limit' },
    { query: 'limit=ten', field: 'limit' },
    { query: 'offset=501', field: 'offset' },
    { query: 'marker=xyz', field: 'marker' },
    { query: 'task_detail_status=Done', field: 'task_detail_status' },
  ])('refuses the sub-task page $query with 400 naming $field', async ({ query, field }) => {
    const id = (await createTask(nobody(1, 'paging'))).body.task_id as string;
    expectInvalid(await api.call('GET', `${tasks}/${id}?${query}`), field);
  });

  it('hides another project’s task as unknown', async () => {
    const id = (await createTask(nobody(1, 'other'))).body.task_id as string;
    const res = await api.call('GET', `/v5/iot/elsewhere/batchtasks/${id}`);
    // The bootstrap token does not grant the other project at all; the key carries the project either way.
    expect(res.status).toBe(403);
    expect(await runtime.deps.batchTasks.get({ project: 'elsewhere', taskId: id })).toBeUndefined();
  });
});
