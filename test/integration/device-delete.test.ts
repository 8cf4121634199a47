import { PutCommand } from '@aws-sdk/lib-dynamodb';
import mqtt from 'mqtt';
import { createDynamoDb } from '../../shared/adapters/aws/create-dynamodb.ts';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { connectDevice as connectSimulated } from '../../tools/simulated-device.ts';
import {
  apiClient,
  connectDevice,
  drainNotifications,
  ensureProduct,
  huaweiOptions,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
} from '../support/runtime.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';

// One TTL minute lasts 50 ms here, so the message sweeper runs every 50 ms.
const runtime = await startTestRuntime({ ttlMinuteMs: 50 });
const { token } = await createApiToken(runtime.deps, ['proj-a', 'proj-b'], 'two projects');
const http = apiClient(runtime, token);

/** One project's view of the API, as its application would call it. */
const project = (name: string) => {
  const base = `/v5/iot/${name}`;
  return {
    addDevice: (deviceId: string, secret: string) =>
      http.call('POST', `${base}/devices`, {
        device_id: deviceId,
        node_id: deviceId,
        product_id: `product-of-${name}`,
        auth_info: { secret },
      }),
    deleteDevice: (deviceId: string) => http.call('DELETE', `${base}/devices/${deviceId}`),
    sendMessage: (deviceId: string, body: Record<string, unknown>) =>
      http.call('POST', `${base}/devices/${deviceId}/messages`, body),
    listMessages: (deviceId: string) => http.call('GET', `${base}/devices/${deviceId}/messages`),
    showMessage: (deviceId: string, messageId: string) =>
      http.call('GET', `${base}/devices/${deviceId}/messages/${messageId}`),
    showDevice: (deviceId: string) => http.call('GET', `${base}/devices/${deviceId}`),
  };
};
const a = project('proj-a');
const b = project('proj-b');
for (const name of ['proj-a', 'proj-b']) await ensureProduct(runtime, `product-of-${name}`, [], token, name);

const waitForStatus = (owner: ReturnType<typeof project>, deviceId: string, status: string) =>
  waitFor(
    async () => ((await owner.showDevice(deviceId)).body?.status === status ? true : undefined),
    `${deviceId} to be ${status}`,
  );

let next = 0;
const freshId = () => `dev-${process.pid}-${next++}`;

/** Connects as the device with its message listener attached before CONNACK, so nothing flushed at connect is missed. */
const connectAndCollect = async (deviceId: string, secret: string) => {
  const client = mqtt.connect(runtime.mqttUrl, huaweiOptions(deviceId, secret));
  onTestFinished(() => void client.endAsync(true));
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return got;
};

/** Adds the device again under `owner`, gives it a message of its own while offline, and connects it. */
const expectCleanRegistration = async (
  owner: ReturnType<typeof project>,
  deviceId: string,
  oldMessageIds: string[],
) => {
  expect((await owner.addDevice(deviceId, 'second-secret')).status).toBe(201);
  const listed = await owner.listMessages(deviceId);
  expect(listed.status).toBe(200);
  expect(listed.body.messages).toEqual([]);
  for (const id of oldMessageIds) expect((await owner.showMessage(deviceId, id)).status).toBe(404);
  // The old ids are free again: no 409 from a message the device never had.
  const own = await owner.sendMessage(deviceId, { message_id: oldMessageIds[0], message: 'mine', ttl: 60 });
  expect(own.status).toBe(201);
  expect(own.body.result.status).toBe('PENDING');

  const got = await connectAndCollect(deviceId, 'second-secret');
  await waitFor(
    async () => (got.some((m) => m.payload.includes('mine')) ? true : undefined),
    'its own pending message',
  );
  await waitForQueueIdle(runtime, 'presence');
  // Only its own message: the old registration's pending one would have been flushed first (oldest first).
  expect(got.map((m) => JSON.parse(m.payload).content)).toEqual(['mine']);
};

describe('deleting a device deletes what it owned', () => {
  it('a device added again by another project sees none of the old messages, over HTTP and MQTT', async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    expect((await a.sendMessage(deviceId, { message_id: 'a-1', message: { secret: 'of A' }, ttl: 60 })).status).toBe(
      201,
    );
    expect(
      (await a.sendMessage(deviceId, { message_id: 'a-2', message: { secret: 'of A too' }, ttl: 60 })).status,
    ).toBe(201);
    expect((await a.deleteDevice(deviceId)).status).toBe(204);

    await expectCleanRegistration(b, deviceId, ['a-1', 'a-2']);
  });

  it('a device added again by the same project starts with an empty history', async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    expect((await a.sendMessage(deviceId, { message_id: 'old-1', message: 'old', ttl: 60 })).status).toBe(201);
    expect((await a.deleteDevice(deviceId)).status).toBe(204);

    await expectCleanRegistration(a, deviceId, ['old-1']);
  });

  it("removes the deleted device's stored messages from the table", async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    const device = (await runtime.deps.devices.get(deviceId))!;
    for (const id of ['r-1', 'r-2', 'r-3'])
      expect((await a.sendMessage(deviceId, { message_id: id, message: id, ttl: 60 })).status).toBe(201);
    expect(await runtime.deps.messages.newest(device, 20)).toHaveLength(3);
    expect((await a.deleteDevice(deviceId)).status).toBe(204);
    expect(await runtime.deps.messages.removeAll(device)).toBe(0);
  });

  it('cuts the deleted device connection, so it hears nothing sent to a device added again with its id', async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    const old = await connectDevice(runtime, huaweiOptions(deviceId, 'first-secret'));
    await waitForStatus(a, deviceId, 'ONLINE');
    const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
    expect((await a.deleteDevice(deviceId)).status).toBe(204);
    await closed;
  });

  it('a PENDING message a cut-short delete left behind is removed at its deadline, not notified', async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    const first = (await runtime.deps.devices.get(deviceId))!;
    // What a delete that died after removing the device (and before its messages) leaves: a PENDING message
    // of a registration that no longer exists.
    expect((await a.sendMessage(deviceId, { message_id: 'left-1', message: 'left', ttl: 5 })).status).toBe(201);
    expect(await runtime.deps.devices.delete('proj-a', first)).toBe(true);
    expect((await a.addDevice(deviceId, 'second-secret')).status).toBe(201);
    await drainNotifications(runtime);

    const leftKey = { deviceId, generation: first.generation, messageId: 'left-1' };
    await waitFor(
      async () => ((await runtime.deps.messages.get(leftKey)) === undefined ? true : undefined),
      'the leftover to be removed',
    );
    const notified = (await drainNotifications(runtime)).filter(
      (n) => n.resource === 'device.message.status' && n.notify_data.header?.device_id === deviceId,
    );
    expect(notified).toEqual([]);
  });

  it('a device deleted and added again still receives what is sent to it while online', async () => {
    const deviceId = freshId();
    expect((await a.addDevice(deviceId, 'first-secret')).status).toBe(201);
    expect((await a.deleteDevice(deviceId)).status).toBe(204);
    expect((await b.addDevice(deviceId, 'second-secret')).status).toBe(201);
    const device = await connectSimulated({
      deviceId,
      secret: 'second-secret',
      port: Number(new URL(runtime.mqttUrl).port),
    });
    onTestFinished(() => device.close());
    await waitForStatus(b, deviceId, 'ONLINE');
    await waitForQueueIdle(runtime, 'presence');
    const received = device.nextMessage((m) => m.topic.endsWith('/sys/messages/down'));
    const res = await b.sendMessage(deviceId, { message_id: 'now', message: 'hello' });
    expect(res.body.result.status).toBe('DELIVERED');
    expect(JSON.parse((await received).payload.toString()).content).toBe('hello');
  });

  it('a device and message stored before generations existed are read, and deleted, as before', async () => {
    const deviceId = freshId();
    const db = createDynamoDb(DEFAULT_REGION, runtime.dynamodbUrl);
    const put = (Item: Record<string, unknown>) => db.send(new PutCommand({ TableName: runtime.tableName, Item }));
    const now = Date.now();
    // The items as the previous version wrote them: no generation, keys without one.
    await put({
      pk: `DEVICE#${deviceId}`,
      sk: 'DEVICE',
      project: 'proj-a',
      deviceId,
      nodeId: deviceId,
      productId: 'p',
      secret: 'first-secret',
      createdAt: now,
      rev: 0,
      presence: {},
    });
    await put({
      pk: `DEVICE#${deviceId}`,
      sk: 'MSG#legacy-1',
      gsi1pk: `HISTORY#${deviceId}`,
      gsi1sk: `${String(now).padStart(15, '0')}#legacy-1`,
      project: 'proj-a',
      deviceId,
      messageId: 'legacy-1',
      message: 'old',
      encoding: 'none',
      payloadFormat: 'standard',
      topic: `oc/devices/${deviceId}/sys/messages/down`,
      ttlMinutes: 60,
      status: 'DELIVERED',
      createdAt: now,
      deadline: now + 3_600_000,
      finishedAt: now,
    });
    expect((await a.showMessage(deviceId, 'legacy-1')).body.status).toBe('DELIVERED');
    expect((await a.listMessages(deviceId)).body.messages.map((m: { message_id: string }) => m.message_id)).toEqual([
      'legacy-1',
    ]);
    expect((await a.deleteDevice(deviceId)).status).toBe(204);
    await expectCleanRegistration(b, deviceId, ['legacy-1']);
  });
});
