import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { connectDevice as connectSimulated, type SimulatedDevice } from '../../tools/simulated-device.ts';
import type { Runtime } from '../../local/runtime.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { MessageBody, sendMessage } from '../../shared/use-cases/create-message.ts';
import {
  apiClient,
  connectReceiving as receiving,
  drainNotifications,
  inbox,
  lifecycleEvent,
  registerDevice,
  sendLifecycleEvent,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

// One TTL minute lasts 40 ms here, so a 5-minute ttl ends in 200 ms and the sweeper runs every 40 ms.
const runtime = await startTestRuntime({ ttlMinuteMs: 40 });
const api = apiClient(runtime);
const messagesOf = (deviceId: string) => `${api.base}/devices/${deviceId}/messages`;

const connect = async (rt: Runtime, deviceId: string, secret: string): Promise<SimulatedDevice> => {
  const device = await connectSimulated({
    deviceId,
    secret,
    port: Number(new URL(rt.mqttUrl).port),
    root: rt.topicRoot,
  });
  onTestFinished(() => device.close());
  return device;
};

const connectReceiving = (deviceId: string, secret: string) => receiving(runtime, deviceId, secret);

const errorCodeOf = (n: { notify_data: { body: Record<string, unknown> } }) =>
  (n.notify_data.body.error_info as { error_code?: string } | undefined)?.error_code;

const statusOf = async (deviceId: string, messageId: string) =>
  (await api.call('GET', `${messagesOf(deviceId)}/${messageId}`)).body.status;

const messageNotifications = async (deviceId: string) =>
  (await drainNotifications(runtime)).filter(
    (n) => n.resource === 'device.message.status' && n.notify_data.header?.device_id === deviceId,
  );

describe('message to an online device', () => {
  it('is published at once in the standard wrapping and reads DELIVERED', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectReceiving(deviceId, secret);
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    const res = await api.call('POST', messagesOf(deviceId), {
      message_id: 'm-1',
      name: 'greet',
      message: { hello: 'world' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      message_id: 'm-1',
      result: {
        status: 'DELIVERED',
        created_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
        finished_time: expect.any(String),
      },
    });
    const m = await received;
    expect(m.topic).toBe(`oc/devices/${deviceId}/sys/messages/down`);
    expect(JSON.parse(m.payload.toString())).toEqual({ name: 'greet', id: 'm-1', content: { hello: 'world' } });
  });

  it('delivers a ttl-0 message at once: ttl 0 only forbids keeping it for later', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectReceiving(deviceId, secret);
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    const res = await api.call('POST', messagesOf(deviceId), { message_id: 'now-1', message: 'now', ttl: 0 });
    expect(res.body.result.status).toBe('DELIVERED');
    expect(JSON.parse((await received).payload.toString())).toMatchObject({ id: 'now-1', content: 'now' });
    expect(await statusOf(deviceId, 'now-1')).toBe('DELIVERED');
  });

  it('notifies PENDING then DELIVERED, each with its own request_id', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    await connectReceiving(deviceId, secret);
    await drainNotifications(runtime);
    await api.call('POST', messagesOf(deviceId), { message_id: 'n-1', message: 'hi' });
    const notes = await messageNotifications(deviceId);
    expect(notes.map((n) => n.notify_data.body.status)).toEqual(['PENDING', 'DELIVERED']);
    expect(notes[1]).toMatchObject({
      resource: 'device.message.status',
      event: 'update',
      notify_data: {
        header: { app_id: runtime.project, device_id: deviceId },
        body: { message_id: 'n-1', topic: `oc/devices/${deviceId}/sys/messages/down` },
      },
    });
    expect(notes[0]!.request_id).not.toBe(notes[1]!.request_id);
  });

  it('publishes one without a message_id before storing it DELIVERED, with both notifications', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectReceiving(deviceId, secret);
    await drainNotifications(runtime);
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    const res = await api.call('POST', messagesOf(deviceId), { message: 'no id' });
    expect(res.body.result).toMatchObject({ status: 'DELIVERED', finished_time: expect.any(String) });
    const id = res.body.message_id;
    expect(JSON.parse((await received).payload.toString())).toMatchObject({ id, content: 'no id' });
    const shown = await api.call('GET', `${messagesOf(deviceId)}/${id}`);
    expect(shown.body).toMatchObject({ message_id: id, status: 'DELIVERED', finished_time: expect.any(String) });
    const notes = await messageNotifications(deviceId);
    expect(notes.map((n) => [n.notify_data.body.message_id, n.notify_data.body.status])).toEqual([
      [id, 'PENDING'],
      [id, 'DELIVERED'],
    ]);
  });

  it('sends raw and base64 messages as their bytes, on custom and full topics', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectReceiving(deviceId, secret);
    await device.client.subscribeAsync(`oc/devices/${deviceId}/user/#`, { qos: 1 });
    const got = inbox(device);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await api.call('POST', messagesOf(deviceId), {
      message: 'plain text',
      payload_format: 'raw',
      topic: 'alerts/high',
    });
    await api.call('POST', messagesOf(deviceId), {
      message: bytes.toString('base64'),
      encoding: 'base64',
      topic_full_name: `oc/devices/${deviceId}/user/bin`,
    });
    await waitFor(async () => (got.length >= 2 ? true : undefined), 'two messages');
    expect(got[0]).toEqual({ topic: `oc/devices/${deviceId}/user/alerts/high`, payload: 'plain text' });
    expect(got[1]!.topic).toBe(`oc/devices/${deviceId}/user/bin`);
    const raw: Buffer[] = [];
    device.onMessage((m) => raw.push(m.payload));
    await api.call('POST', messagesOf(deviceId), {
      message: bytes.toString('base64'),
      encoding: 'base64',
      topic: 'bin2',
    });
    await waitFor(async () => (raw.length ? true : undefined), 'binary message');
    expect(Buffer.compare(raw[0]!, bytes)).toBe(0);
  });
});

describe('message sent while the device subscribes', () => {
  it('reaches the device when its subscription was recorded between the send reading the device and storing the message', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const device = await connectReceiving(deviceId, secret);
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    // The send reads the device as it was just before the subscription (and its flush of PENDING messages) was recorded.
    let reads = 0;
    const staleFirstRead: Deps = {
      ...runtime.deps,
      devices: {
        ...runtime.deps.devices,
        get: async (id) => {
          const d = await runtime.deps.devices.get(id);
          return d && reads++ === 0 ? { ...d, presence: { ...d.presence, subscribed: false } } : d;
        },
      },
    };
    const m = await sendMessage(
      staleFirstRead,
      runtime.project,
      deviceId,
      MessageBody.parse({ message_id: 'race-1', message: 'in between' }),
    );
    expect(m.status).toBe('DELIVERED');
    expect(JSON.parse((await received).payload.toString())).toMatchObject({ id: 'race-1' });
  });
});

describe('message to an offline device', () => {
  it('waits PENDING and is delivered, oldest first, when the device subscribes', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    for (const id of ['p-1', 'p-2', 'p-3']) {
      const res = await api.call('POST', messagesOf(deviceId), { message_id: id, message: id });
      expect(res.body.result.status).toBe('PENDING');
    }
    await drainNotifications(runtime);
    const device = await connect(runtime, deviceId, secret);
    const got = inbox(device);
    await waitFor(async () => ((await statusOf(deviceId, 'p-3')) === 'DELIVERED' ? true : undefined), 'p-3 delivered');
    await waitFor(async () => (got.length >= 3 ? true : undefined), 'three messages');
    expect(got.map((m) => JSON.parse(m.payload).id)).toEqual(['p-1', 'p-2', 'p-3']);
    expect((await messageNotifications(deviceId)).map((n) => n.notify_data.body.status)).toEqual([
      'DELIVERED',
      'DELIVERED',
      'DELIVERED',
    ]);
  });

  it('fails a ttl-0 message at once with IOTDA.014016', async () => {
    const { deviceId } = await registerDevice(runtime);
    const res = await api.call('POST', messagesOf(deviceId), { message_id: 'z-1', message: 'now or never', ttl: 0 });
    expect(res.status).toBe(201);
    expect(res.body.result.status).toBe('FAILED');
    const shown = await api.call('GET', `${messagesOf(deviceId)}/z-1`);
    expect(shown.body).toMatchObject({
      status: 'FAILED',
      error_info: { error_code: 'IOTDA.014016' },
      finished_time: expect.any(String),
    });
    // No name or properties given: left out, as IoTDA leaves them out (not null).
    expect(shown.body).not.toHaveProperty('name');
    expect(shown.body).not.toHaveProperty('properties');
    const notes = await messageNotifications(deviceId);
    expect(notes.map((n) => [n.notify_data.body.status, errorCodeOf(n)])).toEqual([['FAILED', 'IOTDA.014016']]);
  });

  it('times out after its ttl, reads TIMEOUT, is notified, and is never sent', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    await api.call('POST', messagesOf(deviceId), { message_id: 't-1', message: 'late', ttl: 5 });
    await waitFor(async () => ((await statusOf(deviceId, 't-1')) === 'TIMEOUT' ? true : undefined), 'TIMEOUT');
    await waitFor(async () => {
      const notes = await messageNotifications(deviceId);
      return notes.some((n) => n.notify_data.body.status === 'TIMEOUT') ? true : undefined;
    }, 'TIMEOUT notification');
    const device = await connect(runtime, deviceId, secret);
    const got = inbox(device);
    await waitForStatus(runtime, deviceId, 'ONLINE');
    await api.call('POST', messagesOf(deviceId), { message_id: 't-2', message: 'fresh' });
    await waitFor(async () => (got.length ? true : undefined), 'the fresh message');
    expect(got.map((m) => JSON.parse(m.payload).id)).toEqual(['t-2']);
  });
});

describe('message history', () => {
  it('lists the newest 20, newest first; the 21st pushes out the oldest, failing it if PENDING', async () => {
    const { deviceId } = await registerDevice(runtime);
    for (let i = 1; i <= 21; i++)
      await api.call('POST', messagesOf(deviceId), { message_id: `h-${i}`, message: `m${i}` });
    const list = await api.call('GET', messagesOf(deviceId));
    expect(list.status).toBe(200);
    expect(list.body.device_id).toBe(deviceId);
    expect(list.body.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
      Array.from({ length: 20 }, (_, i) => `h-${21 - i}`),
    );
    // Still PENDING: no finished_time nor error_info yet, left out rather than null.
    expect(list.body.messages[0]).toMatchObject({ message_id: 'h-21', status: 'PENDING' });
    expect(list.body.messages[0]).not.toHaveProperty('finished_time');
    expect(list.body.messages[0]).not.toHaveProperty('error_info');
    expect(list.body.messages[0]).toMatchObject({
      message: 'm21',
      encoding: 'none',
      payload_format: 'standard',
      status: 'PENDING',
    });
    const gone = await api.call('GET', `${messagesOf(deviceId)}/h-1`);
    expect([gone.status, gone.body.error_code]).toEqual([404, 'DOWNLINK.404001']);
    const pushed = (await messageNotifications(deviceId)).filter((n) => n.notify_data.body.message_id === 'h-1');
    expect(pushed.map((n) => [n.notify_data.body.status, errorCodeOf(n)])).toEqual([
      ['PENDING', undefined],
      ['FAILED', 'DOWNLINK.410001'],
    ]);
  });

  it('lists the newest 20 of an online device, and removes older ones within ten messages', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    await connectReceiving(deviceId, secret);
    const ids: string[] = [];
    for (let i = 1; i <= 35; i++)
      ids.push((await api.call('POST', messagesOf(deviceId), { message: `o${i}` })).body.message_id);
    const list = await api.call('GET', messagesOf(deviceId));
    expect(list.body.messages.map((m: { message_id: string }) => m.message_id)).toEqual(ids.slice(15).reverse());
    // A message delivered at once trims the history every tenth time (create-message.ts trimDue).
    for (const gone of ids.slice(0, 5))
      expect((await api.call('GET', `${messagesOf(deviceId)}/${gone}`)).status).toBe(404);
  });

  it('keeps and lists the newest 20 of large messages too (a query page stops at 1 MB, five of them)', async () => {
    const { deviceId } = await registerDevice(runtime);
    const big = (i: number) => `${i}`.padEnd(200_000, 'b');
    for (let i = 1; i <= 25; i++)
      expect((await api.call('POST', messagesOf(deviceId), { message_id: `big-${i}`, message: big(i) })).status).toBe(
        201,
      );
    const list = await api.call('GET', messagesOf(deviceId));
    expect(list.body.messages.map((m: { message_id: string }) => m.message_id)).toEqual(
      Array.from({ length: 20 }, (_, i) => `big-${25 - i}`),
    );
    for (const gone of ['big-1', 'big-5'])
      expect((await api.call('GET', `${messagesOf(deviceId)}/${gone}`)).status).toBe(404);
    expect((await api.call('GET', `${messagesOf(deviceId)}/big-6`)).body.message).toBe(big(6));
  });

  it('refuses a repeated message_id with 409 DOWNLINK.409001 and leaves the first untouched', async () => {
    const { deviceId } = await registerDevice(runtime);
    await api.call('POST', messagesOf(deviceId), { message_id: 'dup', message: 'first' });
    const again = await api.call('POST', messagesOf(deviceId), { message_id: 'dup', message: 'second' });
    expect([again.status, again.body.error_code]).toEqual([409, 'DOWNLINK.409001']);
    expect((await api.call('GET', `${messagesOf(deviceId)}/dup`)).body.message).toBe('first');
  });

  it('answers unknown messages and devices with their 404s', async () => {
    const { deviceId } = await registerDevice(runtime);
    expect((await api.call('GET', `${messagesOf(deviceId)}/none`)).body.error_code).toBe('DOWNLINK.404001');
    expect((await api.call('GET', messagesOf('nobody'))).body.error_code).toBe('IOTDA.014000');
    expect((await api.call('POST', messagesOf('nobody'), { message: 'x' })).body.error_code).toBe('IOTDA.014000');
  });
});

// The bad bodies go to one device, online, whose every publish is recorded.
const bad = await registerDevice(runtime);
const badDevice = await connectSimulated({
  deviceId: bad.deviceId,
  secret: bad.secret,
  port: Number(new URL(runtime.mqttUrl).port),
  root: runtime.topicRoot,
});
afterAll(() => badDevice.close());
const badId = bad.deviceId;
const badBodies: [unknown, number, string, string?][] = [
  [{}, 400, 'IOTDA.000006', 'message'],
  [{ message: 5 }, 400, 'IOTDA.000006', 'message'],
  [{ message: 'x', ttl: 7 }, 400, 'IOTDA.000006', 'ttl'],
  [{ message: 'x', ttl: -5 }, 400, 'IOTDA.000006', 'ttl'],
  [{ message: 'x', ttl: 1445 }, 400, 'IOTDA.000006', 'ttl'],
  [{ message: 'x', ttl: '5' }, 400, 'IOTDA.000006', 'ttl'],
  [{ message: 'x', encoding: 'hex' }, 400, 'IOTDA.000006', 'encoding'],
  [{ message: 'x', payload_format: 'xml' }, 400, 'IOTDA.000006', 'payload_format'],
  [{ message: 'x', topic: 'a', topic_full_name: `oc/devices/${badId}/user/a` }, 400, 'IOTDA.000006', 'topic'],
  [{ message: 'x', topic_full_name: 'oc/devices/someone-else/user/a' }, 400, 'IOTDA.000006', 'topic_full_name'],
  [{ message: 'x', topic_full_name: `oc/devices/${badId}/user/#` }, 400, 'IOTDA.000006', 'topic_full_name'],
  [{ message: 'x', topic: 'a/+/b' }, 400, 'IOTDA.000006', 'topic'],
  [{ message: 'not base64!', encoding: 'base64' }, 400, 'IOTDA.000006', 'message'],
  [{ message: { a: 1 }, encoding: 'base64' }, 400, 'IOTDA.000006', 'message'],
  [{ message: 'x', message_id: 'bad id' }, 400, 'IOTDA.000006', 'message_id'],
  [{ message: 'x', message_id: 'm'.repeat(129) }, 400, 'IOTDA.000006', 'message_id'],
  [{ message: 'x'.repeat(257 * 1024) }, 413, 'DOWNLINK.413001'],
  ['{"message":', 400, 'IOTDA.000008'],
];

describe('message bad input', () => {
  const published: string[] = [];
  beforeAll(async () => {
    await waitForStatus(runtime, badId, 'ONLINE');
    runtime.broker.on('publish', (p) => void (p.topic.includes(`/devices/${badId}/`) && published.push(p.topic)));
  });

  it.each(badBodies)('refuses bad body %# with %i %s', async (body, status, code, field) => {
    const res = await api.call('POST', messagesOf(badId), body);
    expect([res.status, res.body.error_code]).toEqual([status, code]);
    if (field) expect(res.body.error_msg).toContain(field);
  });

  it('stored and published nothing for them', async () => {
    // A good message after them: once it is published, whatever a bad one had sent would have been too.
    expect((await api.call('POST', messagesOf(badId), { message_id: 'good', message: 'x' })).status).toBe(201);
    await waitFor(async () => (published.length ? true : undefined), 'the good message published');
    expect(published).toEqual([`${runtime.topicRoot}/devices/${badId}/sys/messages/down`]);
    const stored = (await api.call('GET', messagesOf(badId))).body.messages;
    expect(stored.map((m: { message_id: string }) => m.message_id)).toEqual(['good']);
  });
});

describe('messages with repeated and out-of-order presence events', () => {
  it('moves each message once when the subscription event comes twice, and keeps the device receiving after a late disconnect', async () => {
    const { deviceId } = await registerDevice(runtime);
    for (const id of ['e-1', 'e-2']) await api.call('POST', messagesOf(deviceId), { message_id: id, message: id });
    await drainNotifications(runtime);
    const t = Date.now();
    const subscribed = lifecycleEvent(deviceId, 'subscribed', 's2', t + 2);
    for (const e of [
      lifecycleEvent(deviceId, 'connected', 's1', t),
      lifecycleEvent(deviceId, 'connected', 's2', t + 1),
      subscribed,
      subscribed,
    ]) {
      await sendLifecycleEvent(runtime, e);
    }
    await sendLifecycleEvent(runtime, lifecycleEvent(deviceId, 'disconnected', 's1', t + 3)); // the old session, late
    await waitForQueueIdle(runtime, 'presence');
    for (const id of ['e-1', 'e-2']) expect(await statusOf(deviceId, id)).toBe('DELIVERED');
    const delivered = (await messageNotifications(deviceId)).filter((n) => n.notify_data.body.status === 'DELIVERED');
    expect(new Set(delivered.map((n) => n.request_id)).size).toBe(2);
    expect((await api.showDevice(deviceId)).body.status).toBe('ONLINE');
    const next = await api.call('POST', messagesOf(deviceId), { message_id: 'e-3', message: 'after' });
    expect(next.body.result.status).toBe('DELIVERED');
  });
});
