import { describe, expect, it } from 'vitest';
import type { MessageRecord, MessageStatus } from '../../shared/domain/messages.ts';
import type { DevicePublisher } from '../../shared/ports/device-publisher.ts';
import type { MessageKey, MessageStore } from '../../shared/ports/message-store.ts';
import {
  deliverMessages,
  finishMessage,
  messageStatusEnvelope,
  publishMessage,
} from '../../shared/use-cases/message-lifecycle.ts';
import { countingMetrics, fakeClock, only, recordingNotifier } from '../support/fakes.ts';

// The message lifecycle over in-memory ports: each end status written once, notified, counted.
// test/integration/messages.test.ts runs the same flows through the local runtime and real devices.

const device = { project: 'p', deviceId: 'd1', nodeId: 'n1', productId: 'prod' };

const setup = (status: MessageStatus = 'PENDING') => {
  const clock = fakeClock();
  const message: MessageRecord = {
    project: 'p',
    deviceId: 'd1',
    generation: 'g1',
    messageId: 'm1',
    message: 'hello',
    encoding: 'none',
    payloadFormat: 'standard',
    topic: '$oc/devices/d1/sys/messages/down',
    ttlMinutes: 5,
    status,
    createdAt: clock.now(),
    deadline: clock.now() + 5 * 60_000,
  };
  const stored = { ...message };
  const events: string[] = [];
  const messages = only<MessageStore>('messages', {
    get: async (_: MessageKey) => ({ ...stored }),
    // As the store's conditional write: only a PENDING message ends.
    finish: async (_, to, at) => {
      if (stored.status !== 'PENDING') return false;
      Object.assign(stored, { status: to, finishedAt: at });
      events.push(to);
      return true;
    },
  });
  const publisher = only<DevicePublisher>('publisher', {
    publish: async (topic) => void events.push(`publish ${topic}`),
  });
  const deps = { clock, messages, publisher, notifier: recordingNotifier(), metrics: countingMetrics() };
  const notified = () => deps.notifier.sent.map((e) => [e.notify_data.body.status, e.request_id]);
  return { deps, clock, message, stored, events, notified };
};

describe('finishMessage', () => {
  it('ends a pending message once, notifies its status and counts it', async () => {
    const { deps, message, stored, notified } = setup();

    expect(await finishMessage(deps, device, message, 'DELIVERED')).toMatchObject({ ended: true });

    expect(stored.status).toBe('DELIVERED');
    expect(notified()).toEqual([['DELIVERED', expect.any(String)]]);
    expect(deps.metrics.counts).toEqual({ MessagesDelivered: 1 });
  });

  it('notifies again, with the same request id, a status a writer before reached (it may have died before)', async () => {
    const { deps, message, notified } = setup();
    await finishMessage(deps, device, message, 'FAILED');

    expect(await finishMessage(deps, device, message, 'FAILED')).toMatchObject({ ended: false });

    const [first, copy] = notified();
    expect(copy).toEqual(first);
    expect(deps.metrics.counts).toEqual({ MessagesFailed: 1 });
  });

  it('leaves a message that ended otherwise as it is, unnotified', async () => {
    const { deps, message, notified } = setup('DELIVERED');

    expect(await finishMessage(deps, device, message, 'TIMEOUT')).toMatchObject({ ended: false });

    expect(notified()).toEqual([]);
    expect(deps.metrics.counts).toEqual({});
  });
});

describe('publishMessage and deliverMessages', () => {
  it('publishes before it marks the message DELIVERED', async () => {
    const { deps, message, events } = setup();

    expect(await publishMessage(deps, device, message)).toMatchObject({ status: 'DELIVERED' });

    expect(events).toEqual([`publish ${message.topic}`, 'DELIVERED']);
  });

  it('ends a message whose ttl has run out TIMEOUT and never sends it', async () => {
    const { deps, clock, message, events } = setup();
    clock.advance(5 * 60_000);

    expect(await deliverMessages(deps, device, [message])).toMatchObject([{ status: 'TIMEOUT' }]);

    expect(events).toEqual(['TIMEOUT']);
    expect(deps.metrics.counts).toEqual({ MessagesTimedOut: 1 });
  });

  it('sends the notifications held back before it together with the end status, after the write', async () => {
    const { deps, message, events, notified } = setup();
    const held = { ...message, status: 'PENDING' as const };
    const pendingNotice = messageStatusEnvelope(device, held, 'PENDING', held.createdAt);

    await deliverMessages(deps, device, [message], [pendingNotice]);

    expect(events).toEqual([`publish ${message.topic}`, 'DELIVERED']);
    expect(notified().map(([status]) => status)).toEqual(['PENDING', 'DELIVERED']);
  });

  it('leaves a message whose publish failed PENDING, sends what was held back once, and throws', async () => {
    const { deps, message, stored, notified } = setup();
    const publisher = only<DevicePublisher>('publisher', { publish: () => Promise.reject(new Error('iot down')) });
    const failing = { ...deps, publisher };
    const pendingNotice = messageStatusEnvelope(device, message, 'PENDING', message.createdAt);

    await expect(deliverMessages(failing, device, [message], [pendingNotice])).rejects.toThrow('iot down');
    expect(stored.status).toBe('PENDING');
    expect(notified().map(([status]) => status)).toEqual(['PENDING']);

    await expect(publishMessage(failing, device, message, [pendingNotice])).rejects.toThrow('iot down');
    expect(notified().map(([status]) => status)).toEqual(['PENDING', 'PENDING']);
  });

  it('delivers a group in order up to a failed publish: those before it end and are notified, the rest wait', async () => {
    const clock = fakeClock();
    const group = ['a', 'b', 'c'].map(
      (id): MessageRecord => ({
        project: 'p',
        deviceId: 'd1',
        generation: 'g1',
        messageId: id,
        message: id,
        encoding: 'none',
        payloadFormat: 'standard',
        topic: `t/${id}`,
        ttlMinutes: 5,
        status: 'PENDING',
        createdAt: clock.now(),
        deadline: clock.now() + 5 * 60_000,
      }),
    );
    const statuses = new Map(group.map((m) => [m.messageId, m.status as MessageStatus]));
    const published: string[] = [];
    const deps = {
      clock,
      metrics: countingMetrics(),
      notifier: recordingNotifier(),
      messages: only<MessageStore>('messages', {
        finish: async (key, to) => {
          if (statuses.get(key.messageId) !== 'PENDING') return false;
          statuses.set(key.messageId, to);
          return true;
        },
      }),
      publisher: only<DevicePublisher>('publisher', {
        publish: async (topic) => {
          if (topic === 't/b') throw new Error('iot down');
          published.push(topic);
        },
      }),
    };

    await expect(deliverMessages(deps, device, group)).rejects.toThrow('iot down');

    expect(published).toEqual(['t/a']);
    expect([...statuses.values()]).toEqual(['DELIVERED', 'PENDING', 'PENDING']);
    expect(deps.notifier.sent.map((e) => [e.notify_data.body.message_id, e.notify_data.body.status])).toEqual([
      ['a', 'DELIVERED'],
    ]);
  });
});
