import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRuntime } from '../../local/runtime.ts';
import { ephemeralSettings } from '../../local/settings.ts';
import { createDynamoDb } from '../../shared/adapters/aws/create-dynamodb.ts';
import { createApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { apiClient, ensureProduct, expectInvalid, startTestRuntime } from '../support/runtime.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';

const runtime = await startTestRuntime();
// A project of its own, so the counts are exactly what this file adds.
const { token } = await createApiToken(runtime.deps, ['fleet'], 'fleet');
const api = apiClient(runtime, token);
const devices = '/v5/iot/fleet/devices';
for (const product of ['meter', 'valve']) await ensureProduct(runtime, product, [], token, 'fleet');

type Row = {
  device_id: string;
  node_id: string;
  device_name: string;
  product_id: string;
  auth_info: Record<string, unknown>;
};
const ids = (body: { devices: Row[] }) => body.devices.map((d) => d.device_id);

// 120 devices, added in order: every third on product "meter", the others on "valve"; names "north-…" or "south-…".
const added: string[] = [];
for (let i = 0; i < 120; i++) {
  const res = await api.call('POST', devices, {
    device_id: `d-${String(i).padStart(3, '0')}`,
    node_id: `n-${i}`,
    product_id: i % 3 === 0 ? 'meter' : 'valve',
    device_name: `${i < 60 ? 'north' : 'south'}-${i}`,
  });
  if (res.status !== 201) throw new Error(`add failed: ${res.status} ${JSON.stringify(res.body)}`);
  added.push(res.body.device_id);
}
const newestFirst = [...added].reverse();

describe('ListDevices', () => {
  it('pages through every device newest first by marker, with the total count, and no secrets', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const res = await api.call('GET', `${devices}?limit=50${marker ? `&marker=${marker}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.page.count).toBe(120);
      seen.push(...ids(res.body));
      for (const row of res.body.devices as Row[]) expect(row.auth_info.secret).toBeUndefined();
      if (res.body.devices.length < 50) break;
      marker = res.body.page.marker;
    }
    expect(seen).toEqual(newestFirst);
  });

  it('skips offset rows of the page and caps it at limit', async () => {
    const res = await api.call('GET', `${devices}?offset=5&limit=3`);
    expect(ids(res.body)).toEqual(newestFirst.slice(5, 8));
  });

  it('filters by product, node id and name, counting only the matches', async () => {
    const meters = await api.call('GET', `${devices}?product_id=meter&limit=50`);
    expect(meters.body.page.count).toBe(40);
    expect(ids(meters.body)).toEqual(newestFirst.filter((id) => Number(id.slice(2)) % 3 === 0).slice(0, 40));

    const node = await api.call('GET', `${devices}?node_id=n-7`);
    expect([node.body.page.count, ...ids(node.body)]).toEqual([1, 'd-007']);

    const southMeters = await api.call('GET', `${devices}?product_id=meter&device_name=south&limit=5&offset=2`);
    expect(southMeters.body.page.count).toBe(20);
    expect(ids(southMeters.body)).toEqual(['d-111', 'd-108', 'd-105', 'd-102', 'd-099']);
  });

  it('lists nothing of another project, and refuses bad paging', async () => {
    const other = await apiClient(runtime).call('GET', `/v5/iot/${runtime.project}/devices?node_id=n-7`);
    expect(other.body.page.count).toBe(0);
    expectInvalid(await api.call('GET', `${devices}?limit=0`), 'limit');
    expectInvalid(await api.call('GET', `${devices}?marker=xyz`), 'marker');
    expectInvalid(await api.call('GET', `${devices}?product_id=${'p'.repeat(37)}`), 'product_id');
  });

  it('drops a deleted device from the list', async () => {
    expect((await api.call('DELETE', `${devices}/d-119`)).status).toBe(204);
    const res = await api.call('GET', `${devices}?limit=2`);
    expect([res.body.page.count, ...ids(res.body)]).toEqual([119, 'd-118', 'd-117']);
  });
});

describe('ListDevices over a data dir from before it existed', () => {
  it('lists the devices stored without a place in the list, once the runtime starts again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'downlink-list-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const settings = ephemeralSettings({ dataDir, bootstrapToken: 'list-token-0123456789' });
    const first = await startRuntime(settings);
    const db = createDynamoDb(DEFAULT_REGION, first.dynamodbUrl);
    // As the previous version stored them: no list keys, no list id.
    for (const [i, deviceId] of ['old-a', 'old-b'].entries())
      await db.send(
        new PutCommand({
          TableName: first.tableName,
          Item: {
            pk: `DEVICE#${deviceId}`,
            sk: 'DEVICE',
            project: first.project,
            deviceId,
            nodeId: deviceId,
            productId: 'p',
            secret: 'old-secret',
            createdAt: 1_700_000_000_000 + i,
            rev: 0,
            presence: {},
          },
        }),
      );
    await first.stop();

    const second = await startRuntime(settings);
    onTestFinished(() => second.stop());
    const res = await apiClient(second).call('GET', `/v5/iot/${second.project}/devices`);
    expect([res.body.page.count, ...ids(res.body)]).toEqual([2, 'old-b', 'old-a']);
  });
});
