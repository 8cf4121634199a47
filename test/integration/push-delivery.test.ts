import { describe, expect, it } from 'vitest';
import { verifyPushSignature } from '../../shared/domain/push-delivery.ts';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import { batchClient, nobody } from '../support/batch.ts';
import { messagePushes, pushClient, startReceiver } from '../support/push.ts';
import {
  connectReceiving,
  drainNotifications,
  startTestRuntime,
  waitFor,
  waitForQueueIdle,
} from '../support/runtime.ts';

const RETRY_BASE_MS = 100;
const runtime = await startTestRuntime({ pushRetryBaseMs: RETRY_BASE_MS });
const main = await pushClient(runtime);

/** Every push sent so far has been routed and attempted (retries still waiting count as not idle). */
const pushesSettled = async () => {
  await waitForQueueIdle(runtime, 'push-route');
  await waitForQueueIdle(runtime, 'push-delivery');
};

describe('HTTP push (CONTRACT.md §7)', () => {
  it('pushes each resource as the envelope the queue gets, signed with the action token', async () => {
    const receiver = await startReceiver({ token: 'tok3n' });
    for (const resource of ['device.status', 'device.message.status', 'batchtask'])
      await main.route(resource, `${receiver.url}/${resource}`, { token: 'tok3n' });
    const deviceId = await main.device();
    await main.message(deviceId, 'm-resources'); // PENDING now, DELIVERED once the device is online
    await connectReceiving(runtime, deviceId, 'secret-push-1'); // ONLINE
    const batch = batchClient(runtime);
    const task = await batch.createTask(nobody(2));
    expect(task.status).toBe(201);
    await batch.waitUntilFinished(task.body.task_id);

    const seen = (p: (typeof receiver.got)[number]) =>
      p.envelope.notify_data.header?.device_id === deviceId ||
      p.envelope.notify_data.body.task_id === task.body.task_id;
    const pushes = await waitFor(async () => {
      const mine = receiver.got.filter(seen);
      const resources = new Set(mine.map((p) => p.envelope.resource));
      const statuses = new Set(mine.map((p) => `${p.envelope.resource} ${p.envelope.notify_data.body.status}`));
      return resources.size === 3 && statuses.has('device.message.status DELIVERED') && statuses.has('batchtask Fail')
        ? mine
        : undefined;
    }, 'a push of each resource');

    const queued = new Map<string, NotificationEnvelope>();
    await waitFor(async () => {
      for (const e of await drainNotifications(runtime)) queued.set(e.request_id, e);
      return pushes.every((p) => queued.has(p.envelope.request_id)) ? true : undefined;
    }, 'the same notifications on the queue');
    for (const push of pushes) {
      expect(push.envelope).toEqual(queued.get(push.envelope.request_id));
      expect(push.path).toBe(`/${push.envelope.resource}`);
      expect(push.signature).toBe('ok');
      expect(push.headers['content-type']).toBe('application/json');
      const timestamp = push.headers['x-downlink-timestamp'] as string;
      expect(Math.abs(Number(timestamp) - push.at)).toBeLessThan(60_000); // epoch milliseconds
      expect(verifyPushSignature('another', timestamp, push.body, push.headers['x-downlink-signature'] as string)).toBe(
        false,
      );
    }
    expect(pushes.find((p) => p.envelope.resource === 'device.status')?.envelope.notify_data.body.status).toBe(
      'ONLINE',
    );
  });

  it('pushes a message sent without a message_id to an online device (published, then stored)', async () => {
    const receiver = await startReceiver();
    await main.route('device.message.status', `${receiver.url}/no-id`);
    const deviceId = await main.device();
    await connectReceiving(runtime, deviceId, 'secret-push-1');
    const res = await main.api.call('POST', `/v5/iot/${runtime.project}/devices/${deviceId}/messages`, {
      message: 'x',
    });
    expect(res.body.result?.status).toBe('DELIVERED');
    const pushed = await waitFor(async () => {
      const got = messagePushes(receiver.got, res.body.message_id);
      return got.length === 2 ? got : undefined;
    }, 'its PENDING and DELIVERED pushes');
    expect(pushed.map((p) => p.envelope.notify_data.body.status).sort()).toEqual(['DELIVERED', 'PENDING']);
  });

  it('retries a push its receiver refused, spaced by the doubling backoff, with the identical envelope', async () => {
    const receiver = await startReceiver({ token: 'retry1', fail: 3 });
    await main.route('device.message.status', `${receiver.url}/retry`, { token: 'retry1' });
    const deviceId = await main.device();
    await main.message(deviceId, 'm-retry');
    const attempts = await waitFor(async () => {
      const got = messagePushes(receiver.got, 'm-retry');
      return got.some((p) => p.answered === 200) ? got : undefined;
    }, 'the push accepted after three refusals');
    expect(attempts.map((p) => p.answered)).toEqual([500, 500, 500, 200]);
    expect(new Set(attempts.map((p) => p.body)).size).toBe(1); // the same bytes, the same request_id
    expect(attempts.every((p) => p.signature === 'ok')).toBe(true);
    // Each retry waits at least the base doubled once more than the last (SQS delays in whole seconds, so more).
    for (let i = 1; i < attempts.length; i++)
      expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(RETRY_BASE_MS * 2 ** (i - 1));
    await pushesSettled();
    expect(messagePushes(receiver.got, 'm-retry')).toHaveLength(4); // accepted once: not sent again
  });

  it('stops pushing to a rule once it is deactivated', async () => {
    const stopped = await startReceiver();
    const witness = await startReceiver();
    const { ruleId } = await main.route('device.message.status', `${stopped.url}/stopped`);
    await main.route('device.message.status', `${witness.url}/witness`);
    const deviceId = await main.device();
    await main.message(deviceId, 'm-before');
    await waitFor(async () => (messagePushes(stopped.got, 'm-before').length ? true : undefined), 'the first push');

    await main.setActive(ruleId, false);
    await main.message(deviceId, 'm-after');
    await waitFor(async () => (messagePushes(witness.got, 'm-after').length ? true : undefined), 'the witness push');
    await pushesSettled();
    expect(messagePushes(stopped.got, 'm-after')).toEqual([]);
  });

  it('pushes only what the where condition matches', async () => {
    const delivered = await startReceiver();
    const thisDevice = await startReceiver();
    const everything = await startReceiver();
    const deviceId = await main.device();
    await main.route('device.message.status', `${delivered.url}/delivered`, {
      where: "notify_data.body.status = 'DELIVERED'",
    });
    await main.route('device.message.status', `${thisDevice.url}/device`, {
      where: `notify_data.header.device_id = '${deviceId}' AND notify_data.body.status != 'DELIVERED'`,
    });
    await main.route('device.message.status', `${everything.url}/all`);
    await main.message(deviceId, 'm-where'); // PENDING: the device is offline
    await waitFor(async () => (messagePushes(everything.got, 'm-where').length ? true : undefined), 'the push');
    await waitFor(async () => (messagePushes(thisDevice.got, 'm-where').length ? true : undefined), 'the match');
    await pushesSettled();
    expect(messagePushes(thisDevice.got, 'm-where').map((p) => p.envelope.notify_data.body.status)).toEqual([
      'PENDING',
    ]);
    expect(messagePushes(delivered.got, 'm-where')).toEqual([]);
  });

  it('never pushes one project’s notifications to another’s receiver', async () => {
    const [east, west] = await Promise.all([pushClient(runtime, 'push-east'), pushClient(runtime, 'push-west')]);
    const eastReceiver = await startReceiver();
    const westReceiver = await startReceiver();
    await east.route('device.message.status', `${eastReceiver.url}/east`);
    await west.route('device.message.status', `${westReceiver.url}/west`);
    const [eastDevice, westDevice] = [await east.device(), await west.device()];
    await east.message(eastDevice, 'm-east');
    await west.message(westDevice, 'm-west');
    await waitFor(async () => (messagePushes(eastReceiver.got, 'm-east').length ? true : undefined), 'east push');
    await waitFor(async () => (messagePushes(westReceiver.got, 'm-west').length ? true : undefined), 'west push');
    await pushesSettled();
    expect(eastReceiver.got.map((p) => p.envelope.notify_data.header?.app_id)).toEqual(['push-east']);
    expect(westReceiver.got.map((p) => p.envelope.notify_data.header?.app_id)).toEqual(['push-west']);
  });
});
