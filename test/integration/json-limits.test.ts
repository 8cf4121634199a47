import { describe, expect, it, onTestFinished } from 'vitest';
import { connectDevice as connectSimulated } from '../../tools/simulated-device.ts';
import { MAX_JSON_DEPTH } from '../../shared/validation.ts';
import {
  apiClient,
  connectReceiving,
  expectInvalid,
  registerDevice,
  startTestRuntime,
  waitForQueueIdle,
  waitForStatus,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);
const { deviceId, secret } = await registerDevice(runtime);

/** `levels` nested objects around `inner`: nest(1, x) is {a: x}. */
const nest = (levels: number, inner: unknown = 1): unknown => {
  let v = inner;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};
/** JSON text of `levels` nested arrays, built as text: JSON.stringify itself overflows at such depths. */
const deepArrayText = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

// Each of the four ways a JSON value reaches a device, with `value` (JSON text) at the free-form place.
const PATHS: Record<
  'message' | 'command' | 'properties' | 'batch document',
  (value: string) => [string, string, string, string]
> = {
  message: (value: string) => ['POST', `/devices/${deviceId}/messages`, `{"message":{"v":${value}}}`, 'message'],
  command: (value: string) => ['POST', `/devices/${deviceId}/commands`, `{"paras":{"v":${value}}}`, 'paras'],
  properties: (value: string) => [
    'PUT',
    `/devices/${deviceId}/properties`,
    `{"services":[{"service_id":"s","properties":{"v":${value}}}]}`,
    'services',
  ],
  'batch document': (value: string) => [
    'POST',
    '/batchtasks',
    `{"task_name":"t","task_type":"createCommands","targets":["${deviceId}"],"document":{"paras":{"v":${value}}}}`,
    'document',
  ],
};

const send = (path: keyof typeof PATHS, value: string) => {
  const [method, route, body] = PATHS[path](value);
  return api.call(method, `${api.base}${route}`, body);
};

describe('numbers a body may carry', () => {
  it.each([
    ['1e400', 'beyond the range of a double'],
    ['-1e400', 'beyond the range of a double'],
    ['9007199254740993', '2^53-1'],
    ['1e20', '2^53-1'],
    ['1.5e300', '2^53-1'],
    ['1e-200', '1e-130'],
  ])('refuses %s the same way on every path, naming the field', async (number, why) => {
    for (const path of Object.keys(PATHS) as (keyof typeof PATHS)[]) {
      const res = await send(path, number);
      expectInvalid(res, PATHS[path]('')[3]);
      expect(res.body.error_msg, path).toContain(why);
    }
  });

  it('accepts and keeps exactly the numbers a double and DynamoDB both hold', async () => {
    await connectReceiving(runtime, deviceId, secret);
    const numbers = '[9007199254740991,-9007199254740991,0.1,1.5e-100,1e-130,123456.789,3.141592653589793]';
    const parsed = JSON.parse(numbers) as number[];
    const message = await send('message', numbers);
    expect(message.status).toBe(201);
    const shown = await api.call('GET', `${api.base}/devices/${deviceId}/messages/${message.body.message_id}`);
    expect(shown.body.message).toEqual({ v: parsed });
    const command = await send('command', numbers);
    expect(command.status).toBe(200);
    expect(command.body.response.paras).toEqual({ v: parsed }); // the echoing device sends the paras back
    expect((await send('properties', numbers)).status).toBe(200);
    expect((await send('batch document', numbers)).status).toBe(201);
  });
});

describe('nesting a body may have', () => {
  it(`refuses, naming the field, a body nested deeper than ${MAX_JSON_DEPTH} levels, however deep`, async () => {
    for (const path of Object.keys(PATHS) as (keyof typeof PATHS)[]) {
      for (const levels of [MAX_JSON_DEPTH, 6_000]) {
        const res = await send(path, deepArrayText(levels));
        expectInvalid(res, PATHS[path]('')[3]);
        expect(res.body.error_msg).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      }
    }
    // The issue's own shapes: command paras 6,000 arrays deep, a message 4,000 objects deep.
    expectInvalid(
      await api.call('POST', `${api.base}/devices/${deviceId}/commands`, `{"paras":{"p":${deepArrayText(6_000)}}}`),
      'paras',
    );
    expectInvalid(
      await api.call(
        'POST',
        `${api.base}/devices/${deviceId}/messages`,
        `{"message":${'{"a":'.repeat(4_000)}1${'}'.repeat(4_000)}}`,
      ),
      'message',
    );
  });

  it(`stores and shows back a body nested exactly ${MAX_JSON_DEPTH} levels deep`, async () => {
    // body (1) > message (2) > 18 more levels of {a} > the innermost {a: 1} at level 20
    const message = nest(MAX_JSON_DEPTH - 1);
    const created = await api.call('POST', `${api.base}/devices/${deviceId}/messages`, { message });
    expect(created.status).toBe(201);
    const shown = await api.call('GET', `${api.base}/devices/${deviceId}/messages/${created.body.message_id}`);
    expect(shown.body.message).toEqual(message);

    // body (1) > document (2) > message (3) > ... level 20: the task stores it, and its sub-task's message too.
    const document = { message: nest(MAX_JSON_DEPTH - 2) };
    const task = await api.call('POST', `${api.base}/batchtasks`, {
      task_name: 't',
      task_type: 'createMessages',
      targets: [deviceId],
      document,
    });
    expect(task.body).toMatchObject({ task_id: expect.any(String) });
    const shownTask = await api.call('GET', `${api.base}/batchtasks/${task.body.task_id}`);
    expect(shownTask.body.batchtask.document.message).toEqual(document.message);
  });
});

describe('device answers the API cannot return as sent', () => {
  it.each([
    ['nested 6,000 levels deep', deepArrayText(6_000)],
    ['holding 1e400', '{"v":1e400}'],
  ])('returns an answer %s as its text', async (_what, answer) => {
    const { deviceId: id, secret: s } = await registerDevice(runtime);
    const device = await connectSimulated({
      deviceId: id,
      secret: s,
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
      reply: 'silent',
    });
    onTestFinished(() => device.close());
    await waitForStatus(runtime, id, 'ONLINE');
    await waitForQueueIdle(runtime, 'presence');
    device.onMessage((m) => {
      const requestId = /request_id=(.+)$/.exec(m.topic)?.[1];
      if (m.topic.includes('/sys/commands/') && requestId)
        device.client.publish(`oc/devices/${id}/sys/commands/response/request_id=${requestId}`, answer);
    });
    const res = await api.call('POST', `${api.base}/devices/${id}/commands`, { paras: {} });
    expect(res.status).toBe(200);
    expect(res.body.response).toBe(answer);
  });
});
