import { randomBytes } from 'node:crypto';
import { writeHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { ensureBenchProduct } from './support.ts';

/**
 * `npm run bench -- memory [--requests 12000] [--rounds 1] [--only kind,...] [--data-dir DIR] [--snapshot]`: does
 * the runtime's memory come back after load? The runtime runs in this process (dynalite in memory, or LevelDB
 * under `--data-dir` as `npm start` has it); a mix of good and bad API calls (unknown ids and routes, bad JSON,
 * unknown tokens, messages kept for an offline device, large bodies), 50 in flight, then resident set size,
 * V8 heap and Buffers of both threads at start, right after the load, and after full garbage collections.
 * Exits 1 when what the heaps and Buffers hold grows from the first round to the last by more than a bound.
 * `--snapshot` writes a heap snapshot after the last one.
 */
const KEPT_GROWTH_MB = 16;

export const main = async (argv: string[]) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '12000' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string' },
      'data-dir': { type: 'string' },
      snapshot: { type: 'boolean', default: false },
    },
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
    const dynalite = await runtime.dynamodbMemory();
    const mb = (n: number, w = 4) => `${(n / MB).toFixed(0).padStart(w)} MB`;
    console.log(
      `${label.padEnd(30)} rss ${mb(m.rss, 5)}  heap used ${mb(m.heapUsed)}  external ${mb(m.external)}` +
        `  dynalite thread: heap ${mb(dynalite.heapUsed)}, external ${mb(dynalite.external)}`,
    );
    return { rss: m.rss, kept: m.heapUsed + m.external + dynalite.heapUsed + dynalite.external };
  };

  const runtime = await startRuntime(ephemeralSettings({ logLevel: 'SILENT', dataDir: values['data-dir'] }));
  const base = `${runtime.httpUrl}/v5/iot/${runtime.project}`;
  const call = async (method: string, path: string, body?: string, token = runtime.token) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      ...(body ? { body } : {}),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const headers = { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' };
  await ensureBenchProduct(`${base}/products`, headers);
  const added = await fetch(`${base}/devices`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ node_id: 'memory', product_id: 'bench' }),
  });
  if (added.status !== 201) throw new Error(`add device: ${added.status} ${await added.text()}`);
  const device = (await added.json()) as { device_id: string };
  await settle();
  await measure('started');

  const statuses = new Map<number, number>();
  // Named so a run can be limited to some (`--only big-message,big-refused`) to find what a growth comes from.
  const kinds: Record<string, (i: number) => Promise<number>> = {
    'unknown-device': (i) => call('GET', `/devices/unknown-${i}`),
    'bad-json': (i) => call('POST', '/devices', `{"node_id":"n${i}","product_id":`),
    'bad-device': (i) =>
      call(
        'POST',
        '/devices',
        JSON.stringify({ node_id: `x${i}`, product_id: 'p'.repeat(i % 300), auth_info: { secret: 'bad secret' } }),
      ),
    'unknown-token': () => call('GET', '/devices/whatever', undefined, `dlk_${randomBytes(32).toString('base64url')}`),
    message: (i) =>
      call(
        'POST',
        `/devices/${device.device_id}/messages`,
        JSON.stringify({ message_id: `m${i}`, message: { i, pad: 'x'.repeat(1000) } }),
      ),
    'unknown-route': (i) => call('GET', `/no/such/route/${i}`),
    'offline-command': (i) => call('POST', `/devices/${device.device_id}/commands`, JSON.stringify({ paras: { i } })),
    'unknown-batch': (i) => call('GET', `/batchtasks/${i.toString(16).padStart(24, '0')}`),
    // Large bodies: one kept (a device keeps its newest 20 messages), one over the 256 KB limit.
    'big-message': (i) =>
      call(
        'POST',
        `/devices/${device.device_id}/messages`,
        JSON.stringify({ message_id: `big${i}`, message: 'b'.repeat(200_000) }),
      ),
    'big-refused': () => call('POST', '/devices', 'x'.repeat(300_000)),
  };
  const only = values.only?.split(',') ?? Object.keys(kinds);
  const unknown = only.filter((k) => !(k in kinds));
  if (unknown.length) throw new Error(`unknown --only ${unknown.join(',')}; kinds: ${Object.keys(kinds).join(',')}`);
  const requests = only.map((k) => kinds[k]!);
  // A leak grows with every round; memory the allocator keeps for reuse does not.
  const afterRounds: { rss: number; kept: number }[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    const started = Date.now();
    await mapLimit(
      Array.from({ length: total }, (_, i) => round * total + i),
      50,
      async (i) => {
        const status = await requests[i % requests.length]!(i);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      },
    );
    console.log(
      `round ${round}: ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `by status so far: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    await measure(`round ${round}: after the load`);
    await settle();
    afterRounds.push(await measure(`round ${round}: after full GCs`));
  }
  await new Promise((r) => setTimeout(r, 5_000));
  await settle();
  await measure('5 s later, after full GCs');
  // What the heaps and stored Buffers hold after full GCs must not grow from round to round: the store keeps
  // a device's newest 20 messages (at most 20 × 256 KB), the authorizer cache its 10,000 answers.
  const [first, last] = [afterRounds[0]!, afterRounds.at(-1)!];
  const grew = (last.kept - first.kept) / MB;
  console.log(
    `from round 1 to round ${afterRounds.length}, after full GCs: ` +
      `rss ${((last.rss - first.rss) / MB).toFixed(0)} MB, ` +
      `heaps and Buffers ${grew.toFixed(0)} MB (bound ${KEPT_GROWTH_MB} MB)`,
  );
  if (grew > KEPT_GROWTH_MB) process.exitCode = 1;
  if (values.snapshot) console.log(`heap snapshot: ${writeHeapSnapshot()}`);
  await runtime.stop();
};
