import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { apiClient, expectInvalid, startTestRuntime } from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);
const products = `${api.base}/products`;

const valve = JSON.parse(
  readFileSync(new URL('../../examples/water-valve.product.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

let next = 0;
const product = (overrides: Record<string, unknown> = {}): Record<string, unknown> & { product_id: string } => ({
  ...valve,
  product_id: `prod-${process.pid}-${next++}`,
  ...overrides,
});

describe('products API', () => {
  it('creates a product with its model, shows it, and answers 409 for a taken id', async () => {
    const body = product();
    const created = await api.call('POST', products, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      app_id: runtime.project,
      app_name: runtime.project,
      product_id: body.product_id,
      name: valve.name,
      protocol_type: 'MQTT',
      data_format: 'json',
      create_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
    });
    const shown = await api.call('GET', `${products}/${body.product_id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.service_capabilities).toEqual(created.body.service_capabilities);
    expect(shown.body.service_capabilities[0].commands[0].paras[0]).toMatchObject({
      para_name: 'level',
      data_type: 'int',
      required: true,
    });

    const again = await api.call('POST', products, body);
    expect([again.status, again.body.error_code]).toEqual([409, 'DOWNLINK.409004']);
    // An optional field never given is left out, as IoTDA leaves it out (not null).
    const { industry: _industry, ...plain } = product();
    expect((await api.call('POST', products, plain)).body).not.toHaveProperty('industry');
  });

  it('generates a product id when none is given', async () => {
    const { product_id: _none, ...body } = product();
    const created = await api.call('POST', products, body);
    expect(created.status).toBe(201);
    expect(created.body.product_id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('refuses a malformed model naming its JSON path, and stores nothing', async () => {
    const services = valve.service_capabilities as { properties: { min?: string; max?: string }[] }[];
    const bad = product({
      service_capabilities: [
        { ...services[0], properties: [{ property_name: 'p', data_type: 'int', min: '9', max: '1', method: 'RW' }] },
      ],
    });
    expectInvalid(await api.call('POST', products, bad), 'service_capabilities.0.properties.0.min');
    expect((await api.call('GET', `${products}/${bad.product_id}`)).status).toBe(404);
    expectInvalid(await api.call('POST', products, product({ protocol_type: 'Carrier pigeon' })), 'protocol_type');
    expectInvalid(await api.call('POST', products, product({ name: undefined })), 'name');
  });

  it('keeps a model of up to 500 KB of capability JSON, over the table item limit, and refuses more', async () => {
    const property = (i: number) => ({
      property_name: `p${i}`,
      data_type: 'string',
      method: 'RW',
      description: `${i}`.padEnd(128, 'x'),
      unit: 'u'.repeat(16),
    });
    const service = (s: number, n: number) => ({
      service_id: `s${s}`,
      service_type: 'S',
      properties: Array.from({ length: n }, (_, i) => property(i)),
    });
    const big = product({ service_capabilities: Array.from({ length: 8 }, (_, s) => service(s, 240)) });
    expect(Buffer.byteLength(JSON.stringify(big.service_capabilities))).toBeGreaterThan(400 * 1024);
    expect((await api.call('POST', products, big)).status).toBe(201);
    expect((await api.call('GET', `${products}/${big.product_id}`)).body.service_capabilities).toMatchObject(
      big.service_capabilities as object,
    );
    const tooBig = product({ service_capabilities: Array.from({ length: 12 }, (_, s) => service(s, 250)) });
    expectInvalid(await api.call('POST', products, tooBig), 'service_capabilities');
  });

  it('updates the fields given, replacing service_capabilities whole, and keeps the others', async () => {
    const body = product();
    await api.call('POST', products, body);
    const models = [{ service_id: 'Pump', service_type: 'Pump', commands: [{ command_name: 'start' }] }];
    const updated = await api.call('PUT', `${products}/${body.product_id}`, {
      description: 'v2',
      service_capabilities: models,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: valve.name, description: 'v2', service_capabilities: models });
    expect((await api.call('GET', `${products}/${body.product_id}`)).body).toMatchObject({
      name: valve.name,
      description: 'v2',
      service_capabilities: models,
    });
    expectInvalid(await api.call('PUT', `${products}/${body.product_id}`, { device_type: '' }), 'device_type');
    expect((await api.call('PUT', `${products}/nope-${next++}`, { description: 'x' })).body.error_code).toBe(
      'DOWNLINK.404003',
    );
  });

  it('deletes a product with 204, after which it is unknown', async () => {
    const body = product();
    await api.call('POST', products, body);
    expect((await api.call('DELETE', `${products}/${body.product_id}`)).status).toBe(204);
    const gone = await api.call('GET', `${products}/${body.product_id}`);
    expect([gone.status, gone.body.error_code]).toEqual([404, 'DOWNLINK.404003']);
    expect((await api.call('DELETE', `${products}/${body.product_id}`)).status).toBe(404);
  });

  it('lists summaries newest first, filtered by name, paged by marker and offset with the total count', async () => {
    const { token } = await createApiToken(runtime.deps, ['listing'], 'listing');
    const lister = apiClient(runtime, token);
    const base = '/v5/iot/listing/products';
    for (let i = 0; i < 12; i++)
      expect(
        (await lister.call('POST', base, product({ name: i % 2 ? `odd lamp ${i}` : `even valve ${i}` }))).status,
      ).toBe(201);

    const first = await lister.call('GET', `${base}?limit=5`);
    expect(first.status).toBe(200);
    expect(first.body.page.count).toBe(12);
    expect(first.body.products.map((p: { name: string }) => p.name)).toEqual([
      'odd lamp 11',
      'even valve 10',
      'odd lamp 9',
      'even valve 8',
      'odd lamp 7',
    ]);
    expect(first.body.products[0].service_capabilities).toBeUndefined();
    const second = await lister.call('GET', `${base}?limit=5&marker=${first.body.page.marker}`);
    expect(second.body.products.map((p: { name: string }) => p.name)).toEqual([
      'even valve 6',
      'odd lamp 5',
      'even valve 4',
      'odd lamp 3',
      'even valve 2',
    ]);

    const lamps = await lister.call('GET', `${base}?product_name=lamp&offset=1&limit=2`);
    expect(lamps.body.page.count).toBe(6);
    expect(lamps.body.products.map((p: { name: string }) => p.name)).toEqual(['odd lamp 9', 'odd lamp 7']);
    expectInvalid(await lister.call('GET', `${base}?limit=51`), 'limit');

    // Another project sees none of them.
    expect((await api.call('GET', `${products}?product_name=lamp`)).body.page.count).toBe(0);
  });

  it("never shows or changes another project's product", async () => {
    const body = product();
    await api.call('POST', products, body);
    const { token } = await createApiToken(runtime.deps, ['intruder'], 'intruder');
    const intruder = apiClient(runtime, token);
    const path = `/v5/iot/intruder/products/${body.product_id}`;
    for (const [method, payload] of [['GET'], ['PUT', { description: 'mine' }], ['DELETE']] as const) {
      const res = await intruder.call(method, path, payload);
      expect([res.status, res.body.error_code]).toEqual([404, 'DOWNLINK.404003']);
    }
    expect((await api.call('GET', `${products}/${body.product_id}`)).body.description).toBe(valve.description);
  });
});
