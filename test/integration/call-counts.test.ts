import { afterAll, describe, expect, it } from 'vitest';
import {
  callShape as allCalls,
  costProbe,
  invocationShape as allInvocations,
  type Measured,
} from '../../bench/cost-operations.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The AWS calls each operation of `npm run bench -- cost` makes today, pinned (issue #15). Every call is
 * billed on AWS and most add latency to a caller's wait: a change that adds one fails here and must say why
 * in its commit, with the new count pinned. Keys read `part function service operation`: `critical` is the
 * caller's path before the answer, `answer` the device-response function's, `rest` after the answer or in
 * other functions (bench/cost-operations.ts pathPartOf).
 *
 * Counts are deterministic: each operation is awaited to its end by events. What the device's answer time
 * decides (the waiters' polls, `waiting`) is checked to happen, not counted; so is how SQS batches presence
 * events into invocations.
 */

const runtime = await startTestRuntime();
const probe = await costProbe(runtime);
afterAll(() => probe.stop());

/**
 * A notification also goes to the push-route queue (HTTP push, CONTRACT.md §7) unless the call read that its
 * project never had a push rule (messages read that mark with the device; presence and batch tasks do not),
 * and push-route reads the project's active rules once per batch and subject: how SQS batches the
 * notifications decides how many reads, so push-route is taken apart, its reads bounded by the notifications
 * (the probe's project has no rules, so nothing is pushed). The notifier's sends are pinned: to the
 * operator's queue and, where sent, to push-route at once (the caller waits for one round trip, not two).
 */
const PUSH_ROUTE = 'rest push-route DynamoDB Query';
const callShape = (m: Measured) => {
  const shape = allCalls(m);
  delete shape[PUSH_ROUTE];
  expect(Object.keys(shape).filter((k) => k.includes(' push-'))).toEqual([]);
  return shape;
};
const invocationShape = (m: Measured) => {
  const shape = allInvocations(m);
  delete shape['push-route'];
  return shape;
};
const expectRouted = (m: Measured, notifications: number) => {
  const reads = allCalls(m)[PUSH_ROUTE] ?? 0;
  expect(reads).toBeGreaterThanOrEqual(1);
  expect(reads).toBeLessThanOrEqual(notifications);
  expect(allInvocations(m)['push-route'] ?? 0).toBeLessThanOrEqual(notifications);
};

const CHANGED = 'a count changed: a call was added or removed. Say why in the commit and pin the new count.';

/** The shape without the polls, which are checked apart; the polls' count. */
const split = (m: Measured) => {
  const shape = callShape(m);
  const polls = Object.entries(shape).filter(([k]) => k.startsWith('waiting '));
  for (const [k] of polls) delete shape[k];
  return { shape, polls: Object.fromEntries(polls) };
};

const NO_CONNECT = { connects: 0, subscribes: 0 };
const SYNC_ANSWERED = {
  deviceUnits: 1,
  apiUnits: 1,
  lifecycleUnits: 0,
  deliveries: 2,
  rulesTriggered: 1,
  ...NO_CONNECT,
};

describe('calls per operation', () => {
  it('sync command: the device and its product read once the function knows the device, one more read before; no request record, the answer stored under the device', async () => {
    const { deviceId } = await probe.online();
    const first = await probe.measure(() => probe.ops.command(deviceId));
    const again = await probe.measure(() => probe.ops.command(deviceId));
    const warm = {
      'answer device-response DynamoDB PutItem': 1,
      'critical api-authorizer DynamoDB BatchGetItem': 1,
      'critical create-command DynamoDB BatchGetItem': 1,
      'critical create-command IoTDataPlane Publish': 1,
    };
    expect(split(again).shape, CHANGED).toEqual(warm);
    // First command to a device this function instance has not seen: device, then product.
    expect(split(first).shape, CHANGED).toEqual({ ...warm, 'critical create-command DynamoDB BatchGetItem': 2 });
    for (const m of [first, again]) {
      expect(Object.keys(split(m).polls)).toEqual(['waiting create-command DynamoDB BatchGetItem']);
      expect(invocationShape(m)).toEqual({ 'api-authorizer': 1, 'create-command': 1, 'device-response': 1 });
      expect(m.iot).toEqual(SYNC_ANSWERED);
    }
  });

  it('property set and property query', async () => {
    const { deviceId } = await probe.online();
    await probe.measure(() => probe.ops.propertyQuery(deviceId)); // the function instances now know the device
    await probe.measure(() => probe.ops.propertySet(deviceId));
    for (const [fn, op] of [
      ['update-properties', probe.ops.propertySet],
      ['query-properties', probe.ops.propertyQuery],
    ] as const) {
      const m = await probe.measure(() => op(deviceId));
      expect(split(m).shape, CHANGED).toEqual({
        'answer device-response DynamoDB PutItem': 1,
        'critical api-authorizer DynamoDB BatchGetItem': 1,
        [`critical ${fn} DynamoDB BatchGetItem`]: 1,
        [`critical ${fn} IoTDataPlane Publish`]: 1,
      });
      expect(Object.keys(split(m).polls)).toEqual([`waiting ${fn} DynamoDB BatchGetItem`]);
      expect(invocationShape(m)).toEqual({ 'api-authorizer': 1, [fn]: 1, 'device-response': 1 });
      expect(m.iot).toEqual(SYNC_ANSWERED);
    }
  });

  it('message to an online device: published, then stored DELIVERED, its two notifications in one batch', async () => {
    const { device } = await probe.online();
    // The first message this function instance sends the device trims its history; the next nine do not.
    const first = await probe.measure(() => probe.ops.messageOnline(device));
    const m = await probe.measure(() => probe.ops.messageOnline(device));
    const sent = {
      'critical api-authorizer DynamoDB BatchGetItem': 1,
      // The device and the project's push mark.
      'critical create-message DynamoDB BatchGetItem': 1,
      'critical create-message DynamoDB PutItem': 1,
      'critical create-message IoTDataPlane Publish': 1,
      // PENDING and DELIVERED; the probe's project never had a push rule, so nothing goes to push-route.
      'critical create-message SQS SendMessageBatch': 1,
    };
    expect(callShape(m), CHANGED).toEqual(sent);
    expect(callShape(first), CHANGED).toEqual({ ...sent, 'critical create-message DynamoDB Query': 1 });
    expect(allInvocations(m)['push-route']).toBeUndefined();
    expect(invocationShape(m)).toEqual({ 'api-authorizer': 1, 'create-message': 1 });
    expect(m.iot).toEqual({
      deviceUnits: 0,
      apiUnits: 1,
      lifecycleUnits: 0,
      deliveries: 1,
      rulesTriggered: 0,
      ...NO_CONNECT,
    });
  });

  // The presence function's events reach it through SQS, which may hand a device's events to one invocation
  // or several: its invocations are bounded, its calls (one device read per event, in order) pinned.
  const presenceApart = (m: Measured) => {
    const invocations = invocationShape(m);
    const presence = invocations.presence ?? 0;
    delete invocations.presence;
    return { shape: callShape(m), invocations, presence };
  };

  it('message to an offline device, delivered when it connects', async () => {
    const { deviceId, secret } = await probe.register();
    const m = await probe.measure(async () => void (await probe.ops.messagesOffline(deviceId, secret, 1)));
    const { shape, invocations, presence } = presenceApart(m);
    expect(shape, CHANGED).toEqual({
      'critical api-authorizer DynamoDB BatchGetItem': 1,
      // A device this instance has not seen: device, then product.
      'critical create-message DynamoDB BatchGetItem': 2,
      'critical create-message DynamoDB PutItem': 1,
      'critical create-message DynamoDB Query': 1,
      // PENDING, to the notification queue only (no push rule in the project).
      'critical create-message SQS SendMessage': 1,
      'rest device-authorizer DynamoDB BatchGetItem': 1,
      // connected and two subscribed events (the broker's implicit subscription and the device's own).
      'rest presence DynamoDB BatchGetItem': 3,
      'rest presence DynamoDB Query': 1,
      'rest presence DynamoDB UpdateItem': 3,
      'rest presence IoTDataPlane Publish': 1,
      'rest presence SQS SendMessage': 4,
    });
    expectRouted(m, 3);
    expect(invocations).toEqual({ 'api-authorizer': 1, 'create-message': 1, 'device-authorizer': 1 });
    expect(presence).toBeGreaterThanOrEqual(1);
    expect(presence).toBeLessThanOrEqual(3);
    expect(m.iot).toEqual({
      deviceUnits: 0,
      apiUnits: 1,
      lifecycleUnits: 3,
      deliveries: 1,
      rulesTriggered: 3,
      connects: 1,
      subscribes: 2,
    });
  });

  it('a reconnect of an online device (once a day for the month)', async () => {
    const { device, secret } = await probe.online();
    const m = await probe.measure(async () => void (await probe.ops.reconnect(device, secret)));
    const { shape, invocations, presence } = presenceApart(m);
    expect(shape, CHANGED).toEqual({
      'rest device-authorizer DynamoDB BatchGetItem': 1,
      'rest presence DynamoDB BatchGetItem': 4,
      'rest presence DynamoDB Query': 1,
      'rest presence DynamoDB UpdateItem': 3,
      'rest presence SQS SendMessage': 4,
    });
    expectRouted(m, 2);
    expect(invocations).toEqual({ 'device-authorizer': 1 });
    // disconnected (awaited on its own), then connected and two subscribed.
    expect(presence).toBeGreaterThanOrEqual(2);
    expect(presence).toBeLessThanOrEqual(4);
    // disconnected, connected and two subscribed events: the local broker subscribes the device at connect
    // (as IoTDA does) and the device subscribes itself too; IoT Core would see only the device's.
    expect(m.iot).toEqual({
      deviceUnits: 0,
      apiUnits: 0,
      lifecycleUnits: 4,
      deliveries: 0,
      rulesTriggered: 4,
      connects: 1,
      subscribes: 2,
    });
  });

  const TASK_CREATED = {
    'critical api-authorizer DynamoDB BatchGetItem': 1,
    'critical create-batch-task DynamoDB BatchWriteItem': 1,
    'critical create-batch-task DynamoDB PutItem': 1,
    // Each chunk's sub-tasks written so far, so that writing them again resets none (docs/decisions.md, "Batch at the limits").
    'critical create-batch-task DynamoDB Query': 1,
    'critical create-batch-task DynamoDB UpdateItem': 1,
    'critical create-batch-task SFN StartExecution': 1,
    'critical create-batch-task SQS SendMessage': 2,
    // The state machine's first step reads the task; one already Waitting has nothing to prepare.
    'rest batch-prepare DynamoDB GetItem': 1,
    'rest batch-settle DynamoDB GetItem': 1,
    'rest batch-settle DynamoDB Query': 1,
    'rest batch-settle DynamoDB UpdateItem': 1,
    'rest batch-settle SQS SendMessage': 2,
  };

  /**
   * A chunk writes its progress counters once a second while it runs (shared/use-cases/run-batch-chunk.ts
   * progressBuffer) and once at its end: how many of its UpdateItems there are depends on how long it runs.
   * The rest is pinned, the UpdateItems bounded below.
   */
  const chunkUpdatesApart = (shape: Record<string, number>) => {
    const updates = shape['rest batch-chunk DynamoDB UpdateItem'] ?? 0;
    delete shape['rest batch-chunk DynamoDB UpdateItem'];
    return updates;
  };

  it('a batch task of one command', async () => {
    const { deviceId } = await probe.online();
    const m = await probe.measure(() => probe.ops.batchCommands([deviceId]));
    const { shape } = split(m);
    // The sub-task claimed and finished, the task moved to Processing, the final progress write.
    expect(chunkUpdatesApart(shape), CHANGED).toBeGreaterThanOrEqual(4);
    expect(shape, CHANGED).toEqual({
      ...TASK_CREATED,
      'answer device-response DynamoDB PutItem': 1,
      // A device this chunk's function instance has not seen: device, then product.
      'rest batch-chunk DynamoDB BatchGetItem': 2,
      'rest batch-chunk DynamoDB GetItem': 1,
      'rest batch-chunk DynamoDB Query': 1,
      'rest batch-chunk IoTDataPlane Publish': 1,
      'rest batch-chunk SQS SendMessage': 2,
    });
    expectRouted(m, 3);
    expect(Object.keys(split(m).polls)).toEqual(['waiting batch-chunk DynamoDB BatchGetItem']);
    expect(invocationShape(m)).toEqual({
      'api-authorizer': 1,
      'batch-chunk': 1,
      'batch-prepare': 1,
      'batch-settle': 1,
      'create-batch-task': 1,
      'device-response': 1,
    });
    expect(m.iot).toEqual(SYNC_ANSWERED);
  });

  it('a batch task of one message', async () => {
    const { deviceId } = await probe.online();
    const m = await probe.measure(() => probe.ops.batchMessages([deviceId]));
    const shape = callShape(m);
    expect(chunkUpdatesApart(shape), CHANGED).toBeGreaterThanOrEqual(5);
    expect(shape, CHANGED).toEqual({
      ...TASK_CREATED,
      'rest batch-chunk DynamoDB BatchGetItem': 1,
      'rest batch-chunk DynamoDB GetItem': 1,
      'rest batch-chunk DynamoDB PutItem': 1,
      'rest batch-chunk DynamoDB Query': 2,
      'rest batch-chunk IoTDataPlane Publish': 1,
      // The task's Processing, to both queues (a task's notifications do not read the push mark).
      'rest batch-chunk SQS SendMessage': 2,
      // The message's PENDING and DELIVERED, together, to the notification queue only.
      'rest batch-chunk SQS SendMessageBatch': 1,
    });
    expectRouted(m, 3);
    expect(invocationShape(m)).toEqual({
      'api-authorizer': 1,
      'batch-chunk': 1,
      'batch-prepare': 1,
      'batch-settle': 1,
      'create-batch-task': 1,
    });
    expect(m.iot).toEqual({
      deviceUnits: 0,
      apiUnits: 1,
      lifecycleUnits: 0,
      deliveries: 1,
      rulesTriggered: 0,
      ...NO_CONNECT,
    });
  });
});
