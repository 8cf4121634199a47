import { describe, expect, it } from 'vitest';
import {
  apiClient,
  connectDevice,
  ensureProduct,
  expectInvalid,
  huaweiOptions,
  startTestRuntime,
} from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);
await ensureProduct(runtime, 'water');
await ensureProduct(runtime, 'p');

describe('device registry API', () => {
  it('refuses a device whose product is not one of the project, and stores nothing', async () => {
    const other = await apiClient(runtime).call('POST', `/v5/iot/${runtime.project}/devices`, {
      device_id: 'orphan-1',
      node_id: 'n',
      product_id: 'nowhere',
    });
    expect([other.status, other.body.error_code]).toEqual([404, 'DOWNLINK.404003']);
    expect((await api.showDevice('orphan-1')).status).toBe(404);
  });

  it('keeps a product while a device uses it (409 DOWNLINK.409003), and deletes it once none does', async () => {
    await ensureProduct(runtime, 'kept');
    expect((await api.addDevice({ device_id: 'user-1', node_id: 'n', product_id: 'kept' })).status).toBe(201);
    const refused = await api.call('DELETE', `${api.base}/products/kept`);
    expect([refused.status, refused.body.error_code]).toEqual([409, 'DOWNLINK.409003']);
    expect((await api.call('GET', `${api.base}/products/kept`)).status).toBe(200);
    // The product is still there for new devices after a refused delete.
    expect((await api.addDevice({ device_id: 'user-2', node_id: 'n', product_id: 'kept' })).status).toBe(201);
    expect((await api.deleteDevice('user-1')).status).toBe(204);
    expect((await api.deleteDevice('user-2')).status).toBe(204);
    expect((await api.call('DELETE', `${api.base}/products/kept`)).status).toBe(204);
    const late = await api.addDevice({ device_id: 'user-3', node_id: 'n', product_id: 'kept' });
    expect([late.status, late.body.error_code]).toEqual([404, 'DOWNLINK.404003']);
  });

  it('never leaves a device on a deleted product when adds and the delete race', async () => {
    await ensureProduct(runtime, 'raced');
    const adds = Array.from({ length: 10 }, (_, i) =>
      api.addDevice({ device_id: `race-${i}`, node_id: 'n', product_id: 'raced' }),
    );
    const removal = api.call('DELETE', `${api.base}/products/raced`);
    const [added, removed] = await Promise.all([Promise.all(adds), removal]);
    const created = added.filter((r) => r.status === 201).length;
    // Either the delete won before any device was stored, or it was refused and every add went through.
    if (removed.status === 204) {
      for (let i = 0; i < 10; i++) expect((await api.showDevice(`race-${i}`)).status).toBe(404);
    } else {
      expect(removed.body.error_code).toBe('DOWNLINK.409003');
      expect((await api.call('GET', `${api.base}/products/raced`)).status).toBe(200);
    }
    expect(created + added.filter((r) => r.body.error_code === 'DOWNLINK.404003').length).toBe(10);
  });

  it('adds a device with the default id and a generated secret shown once', async () => {
    const added = await api.addDevice({ node_id: 'meter-1', product_id: 'water' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      device_id: 'water_meter-1',
      node_id: 'meter-1',
      product_id: 'water',
      app_id: runtime.project,
      app_name: runtime.project,
    });
    expect(added.body.auth_info.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(added.body.create_time).toMatch(/^\d{8}T\d{6}Z$/);

    const shown = await api.showDevice('water_meter-1');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      device_id: 'water_meter-1',
      product_name: 'water',
      status: 'INACTIVE',
      app_id: runtime.project,
      app_name: runtime.project,
    });
    // What a device never given or never connected has no value for is left out, as IoTDA leaves it out (not null).
    for (const field of ['description', 'last_online_time', 'connection_status_update_time'])
      expect(shown.body).not.toHaveProperty(field);
    const listed = await api.call('GET', `${api.base}/devices?node_id=meter-1`);
    expect(listed.body.devices).toEqual([shown.body]);
    expect(JSON.stringify(shown.body)).not.toContain(added.body.auth_info.secret);
  });

  it('takes a caller-chosen device id and secret', async () => {
    const added = await api.addDevice({
      device_id: 'chosen-id',
      node_id: 'n',
      product_id: 'p',
      auth_info: { secret: 'my_secret_1' },
    });
    expect(added.status).toBe(201);
    expect(added.body.device_id).toBe('chosen-id');
    expect(added.body.auth_info.secret).toBe('my_secret_1');
  });

  // Its MQTT client id `{device_id}_0_{0|1}_{YYYYMMDDHH}` is 15 characters longer, and IoT Core refuses client
  // ids over 128 bytes at connect: such a device could be added and never connect on AWS.
  it("refuses at AddDevice a device id whose client id would exceed IoT Core's 128 bytes, and stores nothing", async () => {
    const longest = 'a'.repeat(113);
    const refused = await api.addDevice({ device_id: 'a'.repeat(200), node_id: 'n', product_id: 'p' });
    expectInvalid(refused, 'device_id');
    expect(refused.body.error_msg).toContain('128');
    expectInvalid(await api.addDevice({ device_id: 'a'.repeat(114), node_id: 'n', product_id: 'p' }), 'device_id');
    expect((await api.showDevice('a'.repeat(114))).status).toBe(404);
    const added = await api.addDevice({
      device_id: longest,
      node_id: 'n',
      product_id: 'p',
      auth_info: { secret: 'secret-1234' },
    });
    expect(added.status).toBe(201);
    const client = await connectDevice(runtime, huaweiOptions(longest, 'secret-1234'));
    expect(client.connected).toBe(true);
    expect(Buffer.byteLength(client.options.clientId!)).toBe(128);
  });

  it('refuses a duplicate device id with 409 IOTDA.014031 and keeps the first', async () => {
    await api.addDevice({ device_id: 'dup-1', node_id: 'first', product_id: 'p' });
    const again = await api.addDevice({ device_id: 'dup-1', node_id: 'second', product_id: 'p' });
    expect(again.status).toBe(409);
    expect(again.body.error_code).toBe('IOTDA.014031');
    expect((await api.showDevice('dup-1')).body.node_id).toBe('first');
  });

  it('deletes a device with 204, after which it is unknown', async () => {
    await api.addDevice({ device_id: 'del-1', node_id: 'n', product_id: 'p' });
    const deleted = await api.deleteDevice('del-1');
    expect(deleted.status).toBe(204);
    expect((await api.showDevice('del-1')).status).toBe(404);
    const again = await api.deleteDevice('del-1');
    expect(again.status).toBe(404);
    expect(again.body.error_code).toBe('IOTDA.014000');
  });

  it('answers an unknown device with 404 IOTDA.014000', async () => {
    const res = await api.showDevice('nobody');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error_code: 'IOTDA.014000', error_msg: expect.stringContaining('nobody') });
  });

  it('puts an X-Request-Id on every response', async () => {
    const ok = await api.showDevice('water_meter-1');
    const notFound = await api.call('GET', '/nowhere');
    const unauthorized = await apiClient(runtime, null).showDevice('x');
    for (const res of [ok, notFound, unauthorized]) expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('device API bad input', () => {
  const invalid = async (body: unknown, field: string) => {
    const res = await api.addDevice(body as Record<string, unknown>);
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(res.body.error_code).toBe('IOTDA.000006');
    expect(res.body.error_msg).toContain(field);
  };

  it('names the missing or wrong field with 400 IOTDA.000006', async () => {
    await invalid({ product_id: 'p' }, 'node_id');
    await invalid({ node_id: 'n' }, 'product_id');
    await invalid({ node_id: 7, product_id: 'p' }, 'node_id');
    await invalid({ node_id: 'n', product_id: 'p', device_id: 'x'.repeat(129) }, 'device_id');
    await invalid({ node_id: 'n', product_id: 'p', device_id: 'bad/id' }, 'device_id');
    await invalid({ node_id: 'n', product_id: 'p', auth_info: { secret: 'short' } }, 'auth_info.secret');
    await invalid({ node_id: 'n', product_id: 'p', auth_info: 'x' }, 'auth_info');
    await invalid([1, 2], 'body');
    await invalid({ node_id: 'n'.repeat(65), product_id: 'p' }, 'node_id');
  });

  it('answers a body that is not JSON, or not sent as JSON, with 400 IOTDA.000008', async () => {
    const broken = await api.call('POST', `${api.base}/devices`, '{"node_id":', { 'Content-Type': 'application/json' });
    expect(broken.status).toBe(400);
    expect(broken.body.error_code).toBe('IOTDA.000008');
    const asText = await api.call('POST', `${api.base}/devices`, '{"node_id":"n","product_id":"p"}', {
      'Content-Type': 'text/plain',
    });
    expect(asText.status).toBe(400);
    expect(asText.body.error_code).toBe('IOTDA.000008');
    const empty = await api.call('POST', `${api.base}/devices`, '', { 'Content-Type': 'application/json' });
    expect(empty.body.error_code).toBe('IOTDA.000008');
  });

  it('answers a malformed device id in the path with 400 IOTDA.000006', async () => {
    const res = await api.showDevice('x'.repeat(129));
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('IOTDA.000006');
  });

  it('answers unknown routes and methods with 404 and an error body', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['GET', `${api.base}/gadgets`],
      ['PATCH', `${api.base}/devices/x`],
      ['PUT', `${api.base}/devices`],
    ] as const) {
      const res = await api.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error_code).toBe('DOWNLINK.404000');
    }
  });
});

describe('API tokens at the gateway', () => {
  it('answers a missing or unknown token with 401 IOTDA.000002', async () => {
    for (const token of [null, 'dlk_not-a-real-token']) {
      const res = await apiClient(runtime, token).showDevice('water_meter-1');
      expect(res.status).toBe(401);
      expect(res.body.error_code).toBe('IOTDA.000002');
    }
  });

  it('answers a token used on a project it does not grant with 403 IOTDA.000021', async () => {
    const res = await api.call('GET', '/v5/iot/someone-else/devices/water_meter-1');
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('IOTDA.000021');
  });

  it('never shows another project device, even with a token for both', async () => {
    const { createApiToken } = await import('../../shared/use-cases/manage-api-tokens.ts');
    const { token } = await createApiToken(runtime.deps, [runtime.project, 'other'], 'two projects');
    const both = apiClient(runtime, token);
    const res = await both.call('GET', '/v5/iot/other/devices/water_meter-1');
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('IOTDA.014000');
    const del = await both.call('DELETE', '/v5/iot/other/devices/water_meter-1');
    expect(del.status).toBe(404);
    expect((await api.showDevice('water_meter-1')).status).toBe(200);
  });
});
