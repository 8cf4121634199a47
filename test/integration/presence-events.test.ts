import { describe, expect, it } from 'vitest';
import {
  apiClient,
  drainNotifications,
  lifecycleEvent,
  registerDevice,
  sendLifecycleEvent,
  startTestRuntime,
  waitForQueueIdle,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);

const lifecycle = lifecycleEvent;

/** Sends events one by one through the real presence queue and worker, waiting for each. */
const deliverInOrder = async (events: Record<string, unknown>[]) => {
  for (const e of events) {
    await sendLifecycleEvent(runtime, e);
    await waitForQueueIdle(runtime, 'presence');
  }
};

const statusOf = async (deviceId: string) => (await api.showDevice(deviceId)).body.status as string;

describe('presence worker with duplicate and out-of-order events', () => {
  it('keeps a reconnected device ONLINE when its previous session disconnect comes last', async () => {
    const { deviceId } = await registerDevice(runtime);
    await deliverInOrder([
      lifecycle(deviceId, 'connected', 's1', 1_000),
      lifecycle(deviceId, 'connected', 's2', 5_000),
      lifecycle(deviceId, 'disconnected', 's1', 4_000),
    ]);
    expect(await statusOf(deviceId)).toBe('ONLINE');
  });

  it('shows ONLINE when a new session connects in the same millisecond the previous one disconnected', async () => {
    const { deviceId } = await registerDevice(runtime);
    await deliverInOrder([
      lifecycle(deviceId, 'connected', 's1', 1_000),
      lifecycle(deviceId, 'disconnected', 's1', 2_000),
      lifecycle(deviceId, 'connected', 's2', 2_000),
    ]);
    expect(await statusOf(deviceId)).toBe('ONLINE');
  });

  it('does not bring a session back to life when its connect comes after its disconnect', async () => {
    const { deviceId } = await registerDevice(runtime);
    await deliverInOrder([
      lifecycle(deviceId, 'connected', 's1', 1_000),
      lifecycle(deviceId, 'disconnected', 's1', 2_000),
      lifecycle(deviceId, 'disconnected', 's2', 6_000),
      lifecycle(deviceId, 'connected', 's2', 5_000),
      lifecycle(deviceId, 'subscribed', 's2', 5_001),
    ]);
    expect(await statusOf(deviceId)).toBe('OFFLINE');
  });

  it('applies each event once however often it comes; a repeated notification repeats its request_id', async () => {
    const { deviceId } = await registerDevice(runtime);
    await drainNotifications(runtime);
    const on = lifecycle(deviceId, 'connected', 's1', 1_000);
    const off = lifecycle(deviceId, 'disconnected', 's1', 2_000);
    await deliverInOrder([on, on, lifecycle(deviceId, 'subscribed', 's1', 1_001), on, off, off, on]);
    expect(await statusOf(deviceId)).toBe('OFFLINE');
    const notes = (await drainNotifications(runtime)).filter((n) => n.notify_data.header?.device_id === deviceId);
    // A replayed event re-sends its notification (the first run may have died before sending it),
    // under the same request_id, so a consumer that drops repeated ids sees each change once.
    const unique = [...new Map(notes.map((n) => [n.request_id, n.notify_data.body.status])).values()];
    expect(unique).toEqual(['ONLINE', 'OFFLINE']);
  });

  it('handles a burst of concurrent events for one device and settles on the newest session', async () => {
    const { deviceId } = await registerDevice(runtime);
    const events = [];
    for (let i = 0; i < 10; i++) {
      events.push(lifecycle(deviceId, 'connected', `s${i}`, 1_000 + i * 10));
      if (i < 9) events.push(lifecycle(deviceId, 'disconnected', `s${i}`, 1_005 + i * 10));
    }
    await Promise.all(events.reverse().map((e) => sendLifecycleEvent(runtime, e)));
    await waitForQueueIdle(runtime, 'presence');
    expect(await statusOf(deviceId)).toBe('ONLINE');
  });

  it('drops events of unknown devices and foreign client ids without failing the batch', async () => {
    const { deviceId } = await registerDevice(runtime);
    await deliverInOrder([
      lifecycle('ghost', 'connected', 'g1', 1_000),
      { clientId: 'not-huawei', timestamp: 1, eventType: 'connected', sessionIdentifier: 'x' },
      { nonsense: true },
      lifecycle(deviceId, 'connected', 's1', 1_000),
    ]);
    expect(await statusOf(deviceId)).toBe('ONLINE');
  });
});
