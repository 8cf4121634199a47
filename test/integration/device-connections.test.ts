import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { devicePassword, signTimestamp } from '../../shared/domain/device-auth.ts';
import {
  apiClient,
  connackCodeOf,
  connectDevice,
  drainNotifications,
  huaweiOptions,
  registerDevice,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);

const statusNotifications = async (deviceId: string, count: number) => {
  const seen: Awaited<ReturnType<typeof drainNotifications>> = [];
  return waitFor(async () => {
    seen.push(...(await drainNotifications(runtime)).filter((n) => n.notify_data.header?.device_id === deviceId));
    return seen.length >= count ? seen : undefined;
  }, `${count} status notifications for ${deviceId}`);
};

describe('device sign-in', () => {
  it('connects with the Huawei scheme and shows ONLINE, then OFFLINE after it leaves', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
    const online = await waitForStatus(runtime, deviceId, 'ONLINE');
    expect(online.last_online_time).toMatch(/^\d{8}T\d{6}Z$/);
    await client.endAsync();
    await waitForStatus(runtime, deviceId, 'OFFLINE');
  });

  it('notifies each status change as a device.status envelope', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
    await waitForStatus(runtime, deviceId, 'ONLINE');
    await client.endAsync();
    const [on, off] = await statusNotifications(deviceId, 2);
    expect(on).toMatchObject({
      resource: 'device.status',
      event: 'update',
      notify_data: {
        header: { app_id: runtime.project, device_id: deviceId, product_id: 'prod', gateway_id: deviceId },
        body: { status: 'ONLINE' },
      },
    });
    expect(on!.event_time).toMatch(/^\d{8}T\d{6}Z$/);
    expect(off!.notify_data.body.status).toBe('OFFLINE');
    expect(on!.request_id).not.toBe(off!.request_id);
  });

  it('accepts sign type 0 without a timestamp check', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const ts = '2019010100';
    const code = await connackCodeOf(
      runtime,
      huaweiOptions(deviceId, secret, { clientId: `${deviceId}_0_0_${ts}`, password: devicePassword(secret, ts) }),
    );
    expect(code).toBe(0);
  });

  it('refuses a wrong password, an unknown device and a stale sign-type-1 timestamp with CONNACK 4', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const old = signTimestamp(Date.now() - 3 * 3_600_000);
    expect(await connackCodeOf(runtime, huaweiOptions(deviceId, 'wrong-secret'))).toBe(4);
    expect(await connackCodeOf(runtime, huaweiOptions('no-such-device', secret))).toBe(4);
    expect(
      await connackCodeOf(
        runtime,
        huaweiOptions(deviceId, secret, { clientId: `${deviceId}_0_1_${old}`, password: devicePassword(secret, old) }),
      ),
    ).toBe(4);
    expect(await connackCodeOf(runtime, huaweiOptions(deviceId, secret, { password: undefined }))).toBe(4);
  });

  it('refuses a malformed client id and a keepalive outside 30..1200 s with CONNACK 2', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    expect(await connackCodeOf(runtime, huaweiOptions(deviceId, secret, { clientId: 'just-a-name' }))).toBe(2);
    expect(await connackCodeOf(runtime, huaweiOptions(deviceId, secret, { keepalive: 10 }))).toBe(2);
  });

  it('survives garbage on the MQTT port and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = tcpConnect(new URL(runtime.mqttUrl).port as unknown as number, '127.0.0.1', () => {
        socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03]));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
      setTimeout(() => socket.destroy(), 500);
    });
    const { deviceId, secret } = await registerDevice(runtime);
    expect(await connackCodeOf(runtime, huaweiOptions(deviceId, secret))).toBe(0);
  });

  it('keeps a device ONLINE when it connects again and the old connection is closed', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const first = await connectDevice(
      runtime,
      huaweiOptions(deviceId, secret, {
        clientId: `${deviceId}_0_0_2020010100`,
        password: devicePassword(secret, '2020010100'),
      }),
    );
    await waitForStatus(runtime, deviceId, 'ONLINE');
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    await connectDevice(runtime, huaweiOptions(deviceId, secret));
    await closed; // one connection per device: the older one is cut
    // The presence queue can look idle while the IoT rule still holds the new session's events for its batch
    // (a couple of milliseconds): awaited until they are handled, the device must end ONLINE (the old
    // session's disconnect, handled first, cannot take it OFFLINE for good).
    await waitForQueueIdle(runtime, 'presence');
    await waitFor(
      async () => ((await api.showDevice(deviceId)).body.status === 'ONLINE' ? true : undefined),
      'the device ONLINE with its new session',
    );
    await waitForQueueIdle(runtime, 'presence');
    expect((await api.showDevice(deviceId)).body.status).toBe('ONLINE');
  });
});

describe('device topic ACL', () => {
  it('subscribes a device to its system topics on connect, so it receives without subscribing', async () => {
    const { deviceId, secret } = await registerDevice(runtime);
    const client = await connectDevice(runtime, huaweiOptions(deviceId, secret));
    const received = new Promise<string>((resolve) => client.on('message', (topic) => resolve(topic)));
    const topic = `oc/devices/${deviceId}/sys/messages/down`;
    await waitFor(async () => {
      runtime.broker.publish(
        { cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false },
        () => undefined,
      );
      return Promise.race([received, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
    }, 'the implicit subscription');
    expect(await received).toBe(topic);
  });

  it('refuses a subscription to another device topics (SUBACK 128)', async () => {
    const a = await registerDevice(runtime);
    const b = await registerDevice(runtime);
    const client = await connectDevice(runtime, huaweiOptions(a.deviceId, a.secret));
    const granted = await client
      .subscribeAsync([`oc/devices/${b.deviceId}/sys/#`, 'oc/devices/+/sys/#', '#'], { qos: 1 })
      .catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted);
    expect(granted).toEqual([128, 128, 128]);
  });

  it('lets nothing through when a device publishes on another device topic', async () => {
    const victim = await registerDevice(runtime);
    const intruder = await registerDevice(runtime);
    const v = await connectDevice(runtime, huaweiOptions(victim.deviceId, victim.secret));
    const got: string[] = [];
    v.on('message', (topic) => got.push(topic));
    const i = await connectDevice(runtime, huaweiOptions(intruder.deviceId, intruder.secret));
    const closed = new Promise<void>((resolve) => i.once('close', () => resolve()));
    i.publish(`oc/devices/${victim.deviceId}/sys/commands/request_id=1`, '{"paras":{}}', { qos: 0 });
    await closed; // MQTT 3.1.1 has no publish refusal: the broker closes the connection
    // A publish made after the refusal reaches the victim after anything the intruder's could have sent.
    const marker = `oc/devices/${victim.deviceId}/sys/messages/down`;
    const markerArrived = new Promise<void>((resolve) => v.on('message', (topic) => topic === marker && resolve()));
    runtime.broker.publish(
      { cmd: 'publish', topic: marker, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false },
      () => undefined,
    );
    await markerArrived;
    expect(got).toEqual([marker]);
  });
});

describe('local broker with the $oc root', () => {
  it('serves devices built for Huawei topics unchanged', async () => {
    const huawei = await startTestRuntime({ topicRoot: '$oc' });
    const { deviceId, secret } = await registerDevice(huawei);
    const client = await connectDevice(huawei, huaweiOptions(deviceId, secret));
    await waitForStatus(huawei, deviceId, 'ONLINE');
    const granted = await client.subscribeAsync(`$oc/devices/${deviceId}/user/#`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
  });
});
