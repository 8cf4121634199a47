import { describe, expect, it, onTestFinished } from 'vitest';
import { connectDevice as connectSimulated, type SimulatedDevice } from '../../tools/simulated-device.ts';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import { runSubtaskAction } from '../../shared/use-cases/batch-subtask.ts';
import { batchClient } from '../support/batch.ts';
import {
  connectReceiving,
  drainNotifications,
  expectInvalid,
  inbox,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const { api, tasks, waitUntilFinished } = batchClient(runtime);
const messagesOf = (deviceId: string) => `${api.base}/devices/${deviceId}/messages`;

const connect = async (deviceId: string, secret: string): Promise<SimulatedDevice> => {
  const device = await connectSimulated({
    deviceId,
    secret,
    port: Number(new URL(runtime.mqttUrl).port),
    root: runtime.topicRoot,
  });
  onTestFinished(() => device.close());
  return device;
};

const receivingDevice = async () => {
  const { deviceId, secret } = await registerDevice(runtime);
  return connectReceiving(runtime, deviceId, secret);
};

const createTask = (targets: string[], document: Record<string, unknown>) =>
  api.call('POST', tasks, { task_name: 'notify_fleet', task_type: 'createMessages', targets, document });

/** A finished task whose sub-tasks all ran, and its stored record (to run one of its sub-tasks again). */
const runTask = async (targets: string[], document: Record<string, unknown>) => {
  const created = await createTask(targets, document);
  expect(created.status).toBe(201);
  const done = await waitUntilFinished(created.body.task_id);
  const task = (await runtime.deps.batchTasks.get({ project: runtime.project, taskId: created.body.task_id }))!;
  return { taskId: created.body.task_id as string, done, task };
};

const output = (messageId: string, status: string) => JSON.stringify({ message_id: messageId, status });
const statusOf = async (deviceId: string, messageId: string) =>
  (await api.call('GET', `${messagesOf(deviceId)}/${messageId}`)).body.status;
const messageIds = async (deviceId: string) =>
  (await api.call('GET', messagesOf(deviceId))).body.messages.map((m: { message_id: string }) => m.message_id);

describe('createMessages task', () => {
  it('sends each device its message: delivered at once online, kept for an offline one, failed for an unknown one', async () => {
    const online = await receivingDevice();
    const got = inbox(online);
    const { deviceId: offline, secret } = await registerDevice(runtime);
    await drainNotifications(runtime);

    const document = { name: 'notice', message: { text: 'maintenance at 2am' } };
    const { taskId, done } = await runTask([online.deviceId, offline, 'no-such-device'], document);

    expect(done.batchtask).toMatchObject({
      task_type: 'createMessages',
      // Shown as it is applied, with the single call's defaults.
      document: { ...document, encoding: 'none', payload_format: 'standard', ttl: 1440 },
      status: 'PartialSuccess',
      task_progress: {
        total: 3,
        processing: 0,
        success: 2,
        fail: 1,
        waitting: 0,
        fail_wait_retry: 0,
        stopped: 0,
        removed: 0,
      },
    });
    // Without a message_id in the document, each device's message has the task id.
    expect(done.task_details).toEqual([
      { target: online.deviceId, status: 'Success', output: output(taskId, 'DELIVERED') },
      { target: offline, status: 'Success', output: output(taskId, 'PENDING') },
      {
        target: 'no-such-device',
        status: 'Fail',
        error: { error_code: 'IOTDA.014000', error_msg: expect.any(String) },
      },
    ]);
    expect(got).toEqual([
      {
        topic: `oc/devices/${online.deviceId}/sys/messages/down`,
        payload: JSON.stringify({ name: 'notice', id: taskId, content: document.message }),
      },
    ]);

    // The offline device's message is followed through the message API and its notifications, not the task.
    const later = inbox(await connect(offline, secret));
    await waitFor(
      async () => ((await statusOf(offline, taskId)) === 'DELIVERED' ? true : undefined),
      'the kept message delivered',
    );
    await waitFor(async () => (later.length ? true : undefined), 'the kept message received');
    expect(JSON.parse(later[0]!.payload)).toEqual({ name: 'notice', id: taskId, content: document.message });
    const notes: NotificationEnvelope[] = [];
    await waitFor(async () => {
      notes.push(
        ...(await drainNotifications(runtime)).filter(
          (n) => n.resource === 'device.message.status' && n.notify_data.header?.device_id === offline,
        ),
      );
      return notes.some((n) => n.notify_data.body.status === 'DELIVERED') ? true : undefined;
    }, 'the DELIVERED notification');
    expect(notes.map((n) => [n.notify_data.body.message_id, n.notify_data.body.status])).toEqual([
      [taskId, 'PENDING'],
      [taskId, 'DELIVERED'],
    ]);
    expect((await api.call('GET', `${tasks}/${taskId}`)).body.task_details[1]).toEqual({
      target: offline,
      status: 'Success',
      output: output(taskId, 'PENDING'),
    });
  });

  it('fails an offline device with IOTDA.014016 when the ttl is 0, storing its message FAILED as the single call does', async () => {
    const online = await receivingDevice();
    const { deviceId: offline } = await registerDevice(runtime);
    const { taskId, done } = await runTask([offline, online.deviceId], { message: 'now or never', ttl: 0 });
    expect(done.batchtask).toMatchObject({
      status: 'PartialSuccess',
      task_progress: { total: 2, success: 1, fail: 1 },
    });
    expect(done.task_details).toEqual([
      { target: offline, status: 'Fail', error: { error_code: 'IOTDA.014016', error_msg: expect.any(String) } },
      { target: online.deviceId, status: 'Success', output: output(taskId, 'DELIVERED') },
    ]);
    expect((await api.call('GET', `${messagesOf(offline)}/${taskId}`)).body).toMatchObject({
      status: 'FAILED',
      error_info: { error_code: 'IOTDA.014016' },
    });
  });

  it('gives every device the document’s message_id, on the document’s topic', async () => {
    const devices = [await receivingDevice(), await receivingDevice()];
    const inboxes = [];
    for (const d of devices) {
      await d.client.subscribeAsync(`oc/devices/${d.deviceId}/user/#`, { qos: 1 });
      inboxes.push(inbox(d));
    }
    const { done } = await runTask(
      devices.map((d) => d.deviceId),
      { message_id: 'fw-2', message: 'raw text', payload_format: 'raw', topic: 'notices' },
    );
    expect(done.batchtask.status).toBe('Success');
    expect(done.task_details.map((d: { output: string }) => d.output)).toEqual([
      output('fw-2', 'DELIVERED'),
      output('fw-2', 'DELIVERED'),
    ]);
    expect(inboxes).toEqual(
      devices.map((d) => [{ topic: `oc/devices/${d.deviceId}/user/notices`, payload: 'raw text' }]),
    );
  });

  it('fails a device that already has an unrelated message with the same message_id, with the single call’s 409 code', async () => {
    const { deviceId } = await registerDevice(runtime);
    await api.call('POST', messagesOf(deviceId), { message_id: 'dup-1', message: 'first' });
    const first = await runTask([deviceId], { message_id: 'dup-1', message: 'from a task' });
    expect(first.done.task_details).toEqual([
      { target: deviceId, status: 'Fail', error: { error_code: 'DOWNLINK.409001', error_msg: expect.any(String) } },
    ]);
    expect((await api.call('GET', `${messagesOf(deviceId)}/dup-1`)).body.message).toBe('first');

    // Another task's message is as unrelated as a single call's, even with the very same document.
    const { deviceId: other } = await registerDevice(runtime);
    expect((await runTask([other], { message_id: 'dup-2', message: 'same' })).done.batchtask.status).toBe('Success');
    const again = await runTask([other], { message_id: 'dup-2', message: 'same' });
    expect(again.done.task_details[0]).toMatchObject({ status: 'Fail', error: { error_code: 'DOWNLINK.409001' } });
  });
});

describe('a createMessages sub-task run again', () => {
  // The runner re-runs a Processing sub-task whose worker died, possibly after its message was made.
  it.each([
    { document: { message: 'once' } as { message: string; message_id?: string }, with: 'without' },
    { document: { message_id: 'once-1', message: 'once' }, with: 'with' },
  ])('finds the message it made instead of sending a second one, $with a document message_id', async ({ document }) => {
    const device = await receivingDevice();
    const got = inbox(device);
    const { taskId, done, task } = await runTask([device.deviceId], document);
    const messageId = document.message_id ?? taskId;
    expect(done.task_details[0]).toEqual({
      target: device.deviceId,
      status: 'Success',
      output: output(messageId, 'DELIVERED'),
    });

    expect(await runSubtaskAction(runtime.deps, task, device.deviceId)).toEqual({
      status: 'Success',
      output: output(messageId, 'DELIVERED'),
    });
    expect(await messageIds(device.deviceId)).toEqual([messageId]);
    // A second publish would have arrived by the time a fresh message does.
    await api.call('POST', messagesOf(device.deviceId), { message_id: 'marker', message: 'after' });
    await waitFor(async () => (got.length >= 2 ? true : undefined), 'the marker message');
    expect(got.map((m) => JSON.parse(m.payload).id)).toEqual([messageId, 'marker']);
  });

  it('reports its kept message as it stands now', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const { taskId, task } = await runTask([deviceId], { message: 'kept' });
    expect(await runSubtaskAction(runtime.deps, task, deviceId)).toEqual({
      status: 'Success',
      output: output(taskId, 'PENDING'),
    });
    await connect(deviceId, secret);
    await waitFor(async () => ((await statusOf(deviceId, taskId)) === 'DELIVERED' ? true : undefined), 'delivered');
    expect(await runSubtaskAction(runtime.deps, task, deviceId)).toEqual({
      status: 'Success',
      output: output(taskId, 'DELIVERED'),
    });
    expect(await messageIds(deviceId)).toEqual([taskId]);
  });

  it('sends a ttl-0 message refused while the device was offline once the device is back (a retry)', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const { taskId, done, task } = await runTask([deviceId], { message: 'now or never', ttl: 0 });
    expect(done.task_details[0]).toMatchObject({ status: 'Fail', error: { error_code: 'IOTDA.014016' } });
    expect(await runSubtaskAction(runtime.deps, task, deviceId)).toMatchObject({
      status: 'Fail',
      error: { error_code: 'IOTDA.014016' },
    });

    const device = await connect(deviceId, secret);
    await waitForStatus(runtime, deviceId, 'ONLINE');
    await waitForQueueIdle(runtime, 'presence');
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    expect(await runSubtaskAction(runtime.deps, task, deviceId)).toEqual({
      status: 'Success',
      output: output(taskId, 'DELIVERED'),
    });
    expect(JSON.parse((await received).payload.toString())).toMatchObject({ id: taskId, content: 'now or never' });
    expect(await messageIds(deviceId)).toEqual([taskId]);
  });
});

describe('createMessages bad input', () => {
  it('refuses a document the single call would refuse, naming the field under document.', async () => {
    expectInvalid(await createTask(['d-1'], {}), 'document.message');
    expectInvalid(await createTask(['d-1'], { message: 5 }), 'document.message');
    expectInvalid(await createTask(['d-1'], { message: 'x', ttl: 7 }), 'document.ttl');
    expectInvalid(
      await createTask(['d-1'], { message: 'x', topic: 'a', topic_full_name: 'oc/devices/d-1/user/a' }),
      'document.topic',
    );
    expectInvalid(await createTask(['d-1'], { message: 'not base64!', encoding: 'base64' }), 'document.message');
    expectInvalid(await createTask(['d-1'], { message: 'x', message_id: 'bad id' }), 'document.message_id');
    expectInvalid(
      await api.call('POST', tasks, { task_name: 'none', task_type: 'createMessages', targets: ['d-1'] }),
      'document',
    );
  });

  it('refuses a message over 256 KB with 413 DOWNLINK.413001, as the single call does', async () => {
    const count = async () => (await api.call('GET', `${tasks}?task_type=createMessages`)).body.page.count as number;
    const before = await count();
    const res = await createTask(['d-1'], { message: 'x'.repeat(256 * 1024) });
    expect([res.status, res.body.error_code]).toEqual([413, 'DOWNLINK.413001']);
    // Just below the limit with the standard wrapping around it is accepted.
    const fits = await createTask(['d-1'], { message: 'x'.repeat(256 * 1024 - 100) });
    expect(fits.status).toBe(201);
    expect(await count()).toBe(before + 1);
  });
});
