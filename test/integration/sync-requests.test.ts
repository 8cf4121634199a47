import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  connectDevice as connectSimulated,
  type DeviceOptions,
  type SimulatedDevice,
} from '../../tools/simulated-device.ts';
import type { Runtime } from '../../local/runtime.ts';
import { apiClient, registerDevice, startTestRuntime, waitForStatus } from '../support/runtime.ts';

// A short sync wait keeps the timeout path quick; everything else answers at once, well within 5 s even on a
// busy machine.
const runtime = await startTestRuntime({ commandTimeoutMs: 5_000 });
const api = apiClient(runtime);

/** A registered device, online through the simulator; its caller closes it. */
const connectOnline = async (rt: Runtime, options: Partial<DeviceOptions> = {}): Promise<SimulatedDevice> => {
  const { deviceId, secret } = await registerDevice(rt);
  const url = new URL(rt.mqttUrl);
  const device = await connectSimulated({ deviceId, secret, port: Number(url.port), root: rt.topicRoot, ...options });
  await waitForStatus(rt, deviceId, 'ONLINE');
  return device;
};

/** A registered device, online through the simulator, closed when the test ends. */
const onlineDevice = async (rt: Runtime, options: Partial<DeviceOptions> = {}): Promise<SimulatedDevice> => {
  const device = await connectOnline(rt, options);
  onTestFinished(() => device.close());
  return device;
};

/** Topics the platform publishes to a device while `act` runs. */
const publishedTo = async (deviceId: string, act: () => Promise<unknown>): Promise<string[]> => {
  const topics: string[] = [];
  const probe = `${runtime.topicRoot}/devices/${deviceId}/probe-${randomUUID()}`;
  let probed!: () => void;
  const seen = new Promise<void>((resolve) => (probed = resolve));
  const listener = (packet: { topic: string }) => {
    if (packet.topic === probe) probed();
    else if (packet.topic.includes(`/devices/${deviceId}/`)) topics.push(packet.topic);
  };
  runtime.broker.on('publish', listener);
  try {
    await act();
    // A publish after `act`, through the same broker: once it is seen, whatever `act` published has been too.
    runtime.broker.publish(
      { cmd: 'publish', topic: probe, payload: Buffer.alloc(0), qos: 0, retain: false, dup: false },
      () => undefined,
    );
    await seen;
  } finally {
    runtime.broker.off('publish', listener);
  }
  return topics;
};

const commandsOf = (deviceId: string) => `${api.base}/devices/${deviceId}/commands`;
const propertiesOf = (deviceId: string) => `${api.base}/devices/${deviceId}/properties`;

describe('synchronous command', () => {
  it('publishes the command with its id in the topic and returns the device answer', async () => {
    const device = await onlineDevice(runtime);
    const request = device.nextMessage((m) => m.topic.includes('/sys/commands/request_id='));
    const res = await api.call('POST', commandsOf(device.deviceId), {
      service_id: 'Valve',
      command_name: 'open',
      paras: { level: 3 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      command_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      response: { result_code: 0, response_name: 'open', paras: { level: 3 } },
    });
    const seen = await request;
    expect(seen.topic).toBe(`oc/devices/${device.deviceId}/sys/commands/request_id=${res.body.command_id}`);
    expect(JSON.parse(seen.payload.toString())).toEqual({
      service_id: 'Valve',
      command_name: 'open',
      paras: { level: 3 },
    });
  });

  it('passes a failing device result through exactly as the device published it', async () => {
    const answer = { result_code: 7, response_name: 'nope', paras: { reason: 'jammed', n: 1.5 } };
    const device = await onlineDevice(runtime, { reply: 'fixed', fixedReply: answer });
    const res = await api.call('POST', commandsOf(device.deviceId), { paras: {} });
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual(answer);
  });

  it('returns the raw text when the device answers with something that is not JSON', async () => {
    const device = await onlineDevice(runtime, { reply: 'silent' });
    device.onMessage(({ topic }) => {
      const rid = topic.split('request_id=')[1];
      if (rid)
        device.client.publish(`oc/devices/${device.deviceId}/sys/commands/response/request_id=${rid}`, 'OK, done <3');
    });
    const res = await api.call('POST', commandsOf(device.deviceId), { paras: { a: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.response).toBe('OK, done <3');
  });

  it('answers 200 with IOTDA.014111 when the device stays silent', async () => {
    const device = await onlineDevice(runtime, { reply: 'silent' });
    const res = await api.call('POST', commandsOf(device.deviceId), { paras: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ command_id: expect.any(String), response: null, error_code: 'IOTDA.014111' });
  });

  it('refuses an offline device with 403 IOTDA.014016 and publishes nothing', async () => {
    const { deviceId } = await registerDevice(runtime);
    let res: Awaited<ReturnType<typeof api.call>> | undefined;
    const topics = await publishedTo(
      deviceId,
      async () => (res = await api.call('POST', commandsOf(deviceId), { paras: {} })),
    );
    expect(res!.status).toBe(403);
    expect(res!.body.error_code).toBe('IOTDA.014016');
    expect(topics).toEqual([]);

    const device = await onlineDevice(runtime);
    await device.close();
    await waitForStatus(runtime, device.deviceId, 'OFFLINE');
    expect((await api.call('POST', commandsOf(device.deviceId), { paras: {} })).body.error_code).toBe('IOTDA.014016');
  });

  it('answers an unknown device with 404 IOTDA.014000', async () => {
    const res = await api.call('POST', commandsOf('nobody-here'), { paras: {} });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('IOTDA.014000');
  });

  it('gives two devices answering at once each its own answer', async () => {
    const a = await onlineDevice(runtime, {
      reply: 'fixed',
      fixedReply: { result_code: 0, paras: { who: 'a' } },
      delayMs: 100,
    });
    const b = await onlineDevice(runtime, {
      reply: 'fixed',
      fixedReply: { result_code: 0, paras: { who: 'b' } },
      delayMs: 50,
    });
    const calls = await Promise.all(
      [a, b, a, b, a, b].map((d) => api.call('POST', commandsOf(d.deviceId), { paras: {} }).then((r) => ({ d, r }))),
    );
    for (const { d, r } of calls) expect(r.body.response.paras.who).toBe(d === a ? 'a' : 'b');
    expect(new Set(calls.map(({ r }) => r.body.command_id)).size).toBe(6);
  });

  it('never gives a caller an answer from a device other than the one it asked', async () => {
    const target = await onlineDevice(runtime, { reply: 'silent' });
    const intruder = await onlineDevice(runtime, { reply: 'silent' });
    // The intruder answers, on its own topic, the request id it learned of the target's command.
    target.onMessage(({ topic }) => {
      const rid = topic.split('request_id=')[1];
      if (rid)
        intruder.client.publish(
          `oc/devices/${intruder.deviceId}/sys/commands/response/request_id=${rid}`,
          JSON.stringify({ result_code: 0, paras: { forged: true } }),
          { qos: 1 },
        );
    });
    const res = await api.call('POST', commandsOf(target.deviceId), { paras: {} });
    expect(res.body).toMatchObject({ response: null, error_code: 'IOTDA.014111' });
  });
});

describe('stored answers', () => {
  // No API call can show a repeated answer (the caller returns at the first), so the store is asked directly.
  it('keeps a device’s first answer to a request; a repeat, or another kind’s, changes nothing', async () => {
    const key = { requestId: 'r-repeat', deviceId: 'd-repeat', kind: 'command' as const };
    expect(await runtime.deps.responses.respond(key, 'first')).toBe(true);
    expect(await runtime.deps.responses.respond(key, 'second')).toBe(false);
    expect(await runtime.deps.responses.responseOf(key)).toBe('first');
    expect(await runtime.deps.responses.responseOf({ ...key, kind: 'properties-get' as const })).toBeUndefined();
    expect(await runtime.deps.responses.responseOf({ ...key, deviceId: 'd-other' })).toBeUndefined();
  });
});

describe('synchronous properties', () => {
  it('sets properties and returns the device answer', async () => {
    const device = await onlineDevice(runtime);
    const request = device.nextMessage((m) => m.topic.includes('/sys/properties/set/request_id='));
    const services = [{ service_id: 'Meter', properties: { interval: 30 } }];
    const res = await api.call('PUT', propertiesOf(device.deviceId), { services });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ request_id: expect.any(String), response: { result_code: 0, result_desc: 'success' } });
    const seen = await request;
    expect(seen.topic).toBe(`oc/devices/${device.deviceId}/sys/properties/set/request_id=${res.body.request_id}`);
    expect(JSON.parse(seen.payload.toString())).toEqual({ services });
  });

  it('queries properties of a service and returns the device answer', async () => {
    const device = await onlineDevice(runtime);
    const request = device.nextMessage((m) => m.topic.includes('/sys/properties/get/request_id='));
    const res = await api.call('GET', `${propertiesOf(device.deviceId)}?service_id=Meter`);
    expect(res.status).toBe(200);
    expect(res.body.response.services[0]).toMatchObject({ service_id: 'Meter', properties: {} });
    expect(JSON.parse((await request).payload.toString())).toEqual({ service_id: 'Meter' });
  });

  it('answers a silent device with 200 and IOTDA.014111 for set and query', async () => {
    const device = await onlineDevice(runtime, { reply: 'silent' });
    const [set, get] = await Promise.all([
      api.call('PUT', propertiesOf(device.deviceId), { services: [{ service_id: 's', properties: {} }] }),
      api.call('GET', `${propertiesOf(device.deviceId)}?service_id=s`),
    ]);
    for (const res of [set, get])
      expect(res.body).toMatchObject({ request_id: expect.any(String), error_code: 'IOTDA.014111' });
  });

  it('refuses an offline device for set and query with 403 IOTDA.014016', async () => {
    const { deviceId } = await registerDevice(runtime);
    const set = await api.call('PUT', propertiesOf(deviceId), { services: [{ service_id: 's', properties: {} }] });
    const get = await api.call('GET', `${propertiesOf(deviceId)}?service_id=s`);
    for (const res of [set, get]) expect([res.status, res.body.error_code]).toEqual([403, 'IOTDA.014016']);
  });
});

describe('sync request bad input', () => {
  // One online device for the whole table; each row names its route by the device's id.
  let device: SimulatedDevice;
  let id: string;
  beforeAll(async () => {
    device = await connectOnline(runtime);
    id = device.deviceId;
  });
  afterAll(() => device.close());
  const big = 'x'.repeat(300 * 1024);
  it.each<[string, (d: string) => string, unknown, number, string, string?]>([
    ['POST', commandsOf, {}, 400, 'IOTDA.000006', 'paras'],
    ['POST', commandsOf, { paras: 'on' }, 400, 'IOTDA.000006', 'paras'],
    ['POST', commandsOf, { paras: [1] }, 400, 'IOTDA.000006', 'paras'],
    ['POST', commandsOf, { paras: {}, service_id: 's'.repeat(65) }, 400, 'IOTDA.000006', 'service_id'],
    ['POST', commandsOf, { paras: {}, command_name: 'c'.repeat(129) }, 400, 'IOTDA.000006', 'command_name'],
    ['POST', commandsOf, { paras: {}, service_id: 5 }, 400, 'IOTDA.000006', 'service_id'],
    ['POST', commandsOf, '{"paras":', 400, 'IOTDA.000008'],
    ['PUT', propertiesOf, {}, 400, 'IOTDA.000006', 'services'],
    ['PUT', propertiesOf, { services: {} }, 400, 'IOTDA.000006', 'services'],
    ['PUT', propertiesOf, { services: [] }, 400, 'IOTDA.000006', 'services'],
    ['PUT', propertiesOf, { services: [{ properties: {} }] }, 400, 'IOTDA.000006', 'services.0.service_id'],
    [
      'PUT',
      propertiesOf,
      { services: [{ service_id: 's', properties: 3 }] },
      400,
      'IOTDA.000006',
      'services.0.properties',
    ],
    ['PUT', propertiesOf, { services: [{ service_id: 's', properties: { big } }] }, 413, 'DOWNLINK.413001'],
    ['POST', commandsOf, { paras: { big } }, 413, 'DOWNLINK.413001'],
    ['GET', propertiesOf, undefined, 400, 'IOTDA.000006', 'service_id'],
    ['GET', (d) => `${propertiesOf(d)}?service_id=${'s'.repeat(65)}`, undefined, 400, 'IOTDA.000006', 'service_id'],
  ])(
    '%s, row %#: refused with its contract error, nothing published',
    async (method, pathOf, body, status, code, field) => {
      let res: Awaited<ReturnType<typeof api.call>> | undefined;
      const topics = await publishedTo(id, async () => (res = await api.call(method, pathOf(id), body)));
      expect([res!.status, res!.body.error_code]).toEqual([status, code]);
      if (field) expect(res!.body.error_msg).toContain(field);
      expect(topics).toEqual([]);
    },
  );
});

describe('synchronous requests with the $oc root', () => {
  it('round-trips a command for a device built for Huawei topics', async () => {
    const huawei = await startTestRuntime({ topicRoot: '$oc' });
    const device = await onlineDevice(huawei);
    const res = await apiClient(huawei).call('POST', `/v5/iot/${huawei.project}/devices/${device.deviceId}/commands`, {
      paras: { x: 1 },
    });
    expect(res.body.response).toMatchObject({ result_code: 0, paras: { x: 1 } });
  });
});
