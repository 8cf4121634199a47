import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { devicePassword } from '../../shared/domain/device-auth.ts';
import {
  apiClient,
  connectDevice,
  huaweiOptions,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);

const command = (deviceId: string) => api.call('POST', `${api.base}/devices/${deviceId}/commands`, { paras: { n: 1 } });

/** Answers every command it receives, and counts them. */
const answerCommands = (client: MqttClient, received: { count: number }) =>
  client.on('message', (topic) => {
    const rid = topic.split('/sys/commands/request_id=')[1];
    if (!rid) return;
    received.count++;
    client.publish(topic.replace('/sys/commands/', '/sys/commands/response/'), '{"result_code":0}', { qos: 1 });
  });

/** Opens all connections at once, without waiting for any; each settles on its CONNACK or its close. */
const connectAll = (options: IClientOptions[]) =>
  options.map((o) => {
    const client = mqtt.connect(runtime.mqttUrl, o);
    onTestFinished(() => void client.endAsync(true));
    const settled = new Promise<void>((resolve) => {
      client.once('connect', () => resolve());
      client.once('close', () => resolve());
    });
    return { client, settled };
  });

/** Once every connect has settled, waits until exactly one connection is left, seen from both ends. */
const expectOneSurvivor = async (deviceId: string, all: ReturnType<typeof connectAll>) => {
  await Promise.all(all.map((c) => c.settled));
  const survivor = await waitFor(async () => {
    const open = all.filter((c) => c.client.connected);
    return open.length === 1 && runtime.connectionsOf(deviceId) === 1 ? open[0]!.client : undefined;
  }, 'one connection left');
  return survivor;
};

/** The survivor gets a command and answers it; no other connection got it; then it leaves and the device is OFFLINE. */
const expectCommandToOneThenOffline = async (
  deviceId: string,
  all: ReturnType<typeof connectAll>,
  survivor: MqttClient,
) => {
  const received = { count: 0 };
  for (const c of all) answerCommands(c.client, received);
  await waitForStatus(runtime, deviceId, 'ONLINE');
  await waitForQueueIdle(runtime, 'presence');
  const res = await command(deviceId);
  expect(res.status).toBe(200);
  expect(res.body.response).toEqual({ result_code: 0 });
  expect(received.count).toBe(1);

  await survivor.endAsync();
  await waitForStatus(runtime, deviceId, 'OFFLINE');
  const offline = await command(deviceId);
  expect(offline.status).toBe(403);
  expect(offline.body.error_code).toBe('IOTDA.014016');
};

describe('one connection per device', () => {
  it.each([5, 20])('keeps exactly one of %i simultaneous connects with the same client id', async (n) => {
    const { deviceId, secret } = await registerDevice(runtime);
    const options = huaweiOptions(deviceId, secret);
    const all = connectAll(Array.from({ length: n }, () => options));
    const survivor = await expectOneSurvivor(deviceId, all);
    await expectCommandToOneThenOffline(deviceId, all, survivor);
  });

  it('keeps exactly one of simultaneous connects of one device under different client ids', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const options = Array.from({ length: 10 }, (_, i) => {
      const ts = `20200101${String(i).padStart(2, '0')}`;
      return huaweiOptions(deviceId, secret, {
        clientId: `${deviceId}_0_0_${ts}`,
        password: devicePassword(secret, ts),
      });
    });
    const all = connectAll(options);
    const survivor = await expectOneSurvivor(deviceId, all);
    await expectCommandToOneThenOffline(deviceId, all, survivor);
  });

  it('shows ONLINE after 30 rapid connect/close cycles when the last connection stays', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    let last: MqttClient | undefined;
    for (let i = 0; i < 30; i++) {
      const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
      if (i < 29) await client.endAsync();
      else last = client;
    }
    const received = { count: 0 };
    answerCommands(last!, received);
    await waitFor(
      async () => (runtime.connectionsOf(deviceId) === 1 ? true : undefined),
      'the earlier connections to close',
    );
    await waitForStatus(runtime, deviceId, 'ONLINE');
    await waitForQueueIdle(runtime, 'presence');
    expect((await api.showDevice(deviceId)).body.status).toBe('ONLINE');
    const res = await command(deviceId);
    expect(res.status).toBe(200);
    expect(received.count).toBe(1);
  });

  it('shows OFFLINE after 30 rapid connect/close cycles when the last connection closed', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    for (let i = 0; i < 30; i++) {
      const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
      await client.endAsync();
    }
    await waitFor(async () => (runtime.connectionsOf(deviceId) === 0 ? true : undefined), 'every connection to close');
    await waitForQueueIdle(runtime, 'presence'); // every session's events handled, not only the first OFFLINE
    await waitForStatus(runtime, deviceId, 'OFFLINE');
    const res = await command(deviceId);
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('IOTDA.014016');
  });
});
