import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { devicePassword } from '../../shared/domain/device-auth.ts';
import {
  apiClient,
  connackCodeOf,
  connectDevice,
  huaweiOptions,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForStatus,
} from '../support/runtime.ts';

// A short sync wait: the refused answers end in the device-timeout outcome.
const runtime = await startTestRuntime({ commandTimeoutMs: 1_500 });
const api = apiClient(runtime);

const command = (deviceId: string) => api.call('POST', `${api.base}/devices/${deviceId}/commands`, { paras: {} });

/** A device that answers every command with `answer`. */
const answeringDevice = async (answer: () => string) => {
  const { deviceId, secret } = await registerDevice(runtime);
  const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
  client.on('message', (topic) => {
    if (topic.includes('/sys/commands/request_id='))
      client.publish(topic.replace('/sys/commands/', '/sys/commands/response/'), answer(), { qos: 1 });
  });
  await waitForStatus(runtime, deviceId, 'ONLINE');
  return { deviceId, client };
};

describe('device packet size', () => {
  it.each([
    ['128 KB and 1 byte', 128 * 1024 + 1],
    ['200 KB', 200 * 1024],
    ['1 MB', 1024 * 1024],
  ])(
    'refuses a %s answer and closes the connection, as IoT Core does; the caller gets IOTDA.014111',
    async (_, size) => {
      const { deviceId, client } = await answeringDevice(() => 'x'.repeat(size));
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      const res = await command(deviceId);
      await closed;
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ response: null, error_code: 'IOTDA.014111' });
      await waitForStatus(runtime, deviceId, 'OFFLINE');

      // The runtime keeps serving: a device answering within the limit gets its answer through.
      const healthy = await answeringDevice(() => 'y'.repeat(128 * 1024));
      const ok = await command(healthy.deviceId);
      expect(ok.status).toBe(200);
      expect(ok.body.response).toHaveLength(128 * 1024);
    },
  );
});

/** Publishes as the platform does, resolving once aedes has also queued it for offline persistent sessions. */
const platformPublish = (topic: string, payload: string) =>
  new Promise<void>((resolve, reject) =>
    runtime.broker.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
      (e) => (e ? reject(e) : resolve()),
    ),
  );

/** Connects with a sign-type-0 client id of the given hour, and records every message from the first byte on. */
const connectAs = async (deviceId: string, secret: string, hour: string, clean: boolean) => {
  const ts = `20200101${hour}`;
  const options = huaweiOptions(deviceId, secret, {
    clientId: `${deviceId}_0_0_${ts}`,
    password: devicePassword(secret, ts),
    clean,
  });
  const client = mqtt.connect(runtime.mqttUrl, options);
  onTestFinished(() => void client.endAsync(true));
  const got: string[] = [];
  client.on('message', (_, payload) => got.push(payload.toString()));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return { client, got };
};

describe('what a device can make the broker keep', () => {
  it('keeps one persistent session per device: a message queued while offline is delivered once, not once per client id', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const down = `oc/devices/${deviceId}/sys/messages/down`;
    const hours = ['00', '01', '02'];
    for (const hour of hours) {
      const { client } = await connectAs(deviceId, secret, hour, false);
      await client.subscribeAsync(down, { qos: 1 }); // the filter the broker subscribes it to as well
      await client.endAsync();
    }
    await platformPublish(down, 'queued');

    // The newest session gets the queued message; the older client ids had their sessions discarded.
    const received: string[] = [];
    for (const hour of [...hours].reverse()) {
      const { client, got } = await connectAs(deviceId, secret, hour, false);
      await client.subscribeAsync(down, { qos: 1 }); // the filter the broker subscribes it to as well
      await platformPublish(down, `marker-${hour}`);
      await waitFor(async () => (got.includes(`marker-${hour}`) ? true : undefined), `the marker of ${hour}`);
      received.push(...got.filter((m) => m === 'queued'));
      await client.endAsync();
    }
    expect(received).toEqual(['queued']);
  });

  it('refuses a retained publish and closes the connection (the IoT policy grants no iot:RetainPublish); nothing is kept', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const topic = `oc/devices/${deviceId}/user/state`;
    const first = await connectDevice(runtime, huaweiOptions(deviceId, secret));
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    first.publish(topic, 'kept?', { qos: 1, retain: true });
    await closed;

    const { client, got } = await connectAs(deviceId, secret, '00', true);
    await client.subscribeAsync(`oc/devices/${deviceId}/user/#`, { qos: 1 });
    await platformPublish(topic, 'marker');
    await waitFor(async () => (got.includes('marker') ? true : undefined), 'the marker');
    expect(got).toEqual(['marker']);
  });
});

describe('failed sign-ins', () => {
  it('refuses a device id from an address after 5 failed sign-ins, without checking, while other devices from there get in', async () => {
    const target = await registerDevice(runtime);
    const other = await registerDevice(runtime);
    const guess = () => connackCodeOf(runtime, huaweiOptions(target.deviceId, 'a-wrong-guess'));
    for (let i = 0; i < 5; i++) expect(await guess()).toBe(4);

    // Locked: refused with "server unavailable, try later", whatever the password, so guessing gets nowhere.
    const flood = await Promise.all(Array.from({ length: 20 }, guess));
    expect(new Set(flood)).toEqual(new Set([3]));
    expect(await connackCodeOf(runtime, huaweiOptions(target.deviceId, target.secret))).toBe(3);

    // Another device from the same address signs in; the locked one does once its lock has run out.
    expect(await connackCodeOf(runtime, huaweiOptions(other.deviceId, other.secret))).toBe(0);
    await waitFor(
      async () =>
        (await connackCodeOf(runtime, huaweiOptions(target.deviceId, target.secret))) === 0 ? true : undefined,
      'the lock to run out',
    );
  });
});
