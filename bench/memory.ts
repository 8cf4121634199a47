import { randomBytes } from 'node:crypto';
import { writeHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { forEachLimit } from './limit.ts';

/**
 * `npm run bench -- memory [--requests 12000] [--snapshot]`: does the runtime's memory come back after load?
 * The runtime runs in this process; a mix of good and bad API calls (unknown ids and routes, bad JSON, unknown
 * tokens, messages kept for an offline device), 50 in flight, then resident set size and V8 heap at start, right
 * after the load, and after full garbage collections. `--snapshot` writes a heap snapshot after the last one.
 */
export const main = async (argv: string[]) => {
  const { values } = parseArgs({
    args: argv,
    options: { requests: { type: 'string', default: '12000' }, rounds: { type: 'string', default: '1' }, snapshot: { type: 'boolean', default: false } },
  });
  const total = Number(values.requests);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const MB = 2 ** 20;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const measure = async (label: string) => {
    const m = process.memoryUsage();
    const dynalite = await runtime.dynamodbHeapUsed();
    console.log(
      `${label.padEnd(30)} rss ${(m.rss / MB).toFixed(0).padStart(5)} MB  heap used ${(m.heapUsed / MB).toFixed(0).padStart(4)} MB` +
        `  external ${(m.external / MB).toFixed(0).padStart(4)} MB  dynalite thread heap ${(dynalite / MB).toFixed(0).padStart(4)} MB`,
    );
  };

  const runtime = await startRuntime(ephemeralSettings({ logLevel: 'SILENT' }));
  const base = `${runtime.httpUrl}/v5/iot/${runtime.project}`;
  const call = async (method: string, path: string, body?: string, token = runtime.token) => {
    const res = await fetch(`${base}${path}`, { method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, ...(body ? { body } : {}) });
    await res.arrayBuffer();
    return res.status;
  };
  const device = await fetch(`${base}/devices`, {
    method: 'POST',
    headers: { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ node_id: 'memory', product_id: 'bench' }),
  }).then((r) => r.json() as Promise<{ device_id: string }>);
  await settle();
  await measure('started');

  const statuses = new Map<number, number>();
  const requests = [
    (i: number) => call('GET', `/devices/unknown-${i}`),
    (i: number) => call('POST', '/devices', `{"node_id":"n${i}","product_id":`),
    (i: number) => call('POST', '/devices', JSON.stringify({ node_id: `x${i}`, product_id: 'p'.repeat(i % 300), auth_info: { secret: 'bad secret' } })),
    () => call('GET', '/devices/whatever', undefined, `dlk_${randomBytes(32).toString('base64url')}`),
    (i: number) => call('POST', `/devices/${device.device_id}/messages`, JSON.stringify({ message_id: `m${i}`, message: { i, pad: 'x'.repeat(1000) } })),
    (i: number) => call('GET', `/no/such/route/${i}`),
    (i: number) => call('POST', `/devices/${device.device_id}/commands`, JSON.stringify({ paras: { i } })),
    (i: number) => call('GET', `/batchtasks/${i.toString(16).padStart(24, '0')}`),
    // Large bodies: one kept (a device keeps its newest 20 messages), one over the 256 KB limit.
    (i: number) => call('POST', `/devices/${device.device_id}/messages`, JSON.stringify({ message_id: `big${i}`, message: 'b'.repeat(200_000) })),
    () => call('POST', '/devices', 'x'.repeat(300_000)),
  ];
  // A leak grows with every round; memory the allocator keeps for reuse does not.
  for (let round = 1; round <= Number(values.rounds); round++) {
    const started = Date.now();
    await forEachLimit(
      Array.from({ length: total }, (_, i) => round * total + i),
      50,
      async (i) => {
        const status = await requests[i % requests.length]!(i);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      },
    );
    console.log(`round ${round}: ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, by status so far: ${JSON.stringify(Object.fromEntries(statuses))}`);
    await measure(`round ${round}: after the load`);
    await settle();
    await measure(`round ${round}: after full GCs`);
  }
  await new Promise((r) => setTimeout(r, 5_000));
  await settle();
  await measure('5 s later, after full GCs');
  if (values.snapshot) console.log(`heap snapshot: ${writeHeapSnapshot()}`);
  await runtime.stop();
};
