import { parseArgs } from 'node:util';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import type { TopicRoot } from '../shared/domain/topics.ts';
import type { ConnectOrder, ConnectReport } from './connections-clients.ts';
import { forkTs } from './ipc.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { checkFileLimit, ensureBenchProduct } from './support.ts';

/**
 * How many devices can sign in to the local runtime, how fast, in how much memory. The runtime runs in
 * this process (so process.memoryUsage() is its memory); the devices run in a child process. The same
 * connects against a plain aedes broker, in the same run, show what sign-in, ACL and lifecycle cost.
 */

const USAGE = `npm run bench -- connections [--devices 2000] [--concurrency 100] [--skip-baseline]`;

// The aim for the local runtime.
const AIM = { connectsPerSecond: 500, rssMb: 300 };
const PRESENCE_WAIT_MS = 120_000;
const WHOLE_RUN_MS = 10 * 60_000;

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Usage {
  rss: number;
  cpuMs: number;
}

/** A broker under test: where it listens, how to read its process's usage, what "settled" means. */
interface Target {
  host: string;
  port: number;
  root: TopicRoot;
  devices: ConnectOrder['devices'];
  usage(): Promise<Usage>;
  /** Waits until the platform shows every device ONLINE; ms since `startedAt`, or how many never were. */
  settle?(startedAt: number): Promise<{ onlineAfterMs?: number; stillOffline: number }>;
  stop(): Promise<void>;
}

interface Result {
  report: ConnectReport;
  brokerCpuMs: number;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  onlineAfterMs?: number | undefined;
  stillOffline?: number;
}

const ownUsage = async (): Promise<Usage> => {
  const cpu = process.cpuUsage();
  return { rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 };
};

/** Connects every device from a fresh clients process, sampling the broker's memory all along. */
const measure = async (target: Target, concurrency: number): Promise<Result> => {
  const clients = forkTs(new URL('./connections-clients.ts', import.meta.url));
  try {
    const before = await target.usage();
    let rssPeak = before.rss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        rssPeak = Math.max(rssPeak, (await target.usage()).rss);
        await sleep(100);
      }
    })();
    const startedAt = performance.now();
    const { host, port, root, devices } = target;
    const report = await clients.ask<ConnectReport>(
      { type: 'connect', host, port, root, devices, concurrency },
      120_000,
    );
    const connected = await target.usage();
    const presence = (await target.settle?.(startedAt)) ?? {};
    sampling = false;
    await sampler;
    const after = await target.usage();
    return {
      report,
      brokerCpuMs: connected.cpuMs - before.cpuMs,
      rssBefore: mb(before.rss),
      rssPeak: mb(Math.max(rssPeak, after.rss)),
      rssAfter: mb(after.rss),
      ...presence,
    };
  } finally {
    await clients.stop({ type: 'close' }, 60_000);
  }
};

const deviceApi = (runtime: Runtime) => {
  const base = `${runtime.httpUrl}/v5/iot/${runtime.project}/devices`;
  const headers = { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' };
  return {
    add: async (i: number) => {
      const secret = `bench-secret-${i}`;
      const body = { node_id: `node-${String(i).padStart(5, '0')}`, product_id: 'bench', auth_info: { secret } };
      const res = await fetch(base, { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`add device ${i}: ${res.status} ${await res.text()}`);
      return { deviceId: ((await res.json()) as { device_id: string }).device_id, secret };
    },
    status: async (deviceId: string) => {
      const res = await fetch(`${base}/${deviceId}`, { headers });
      return ((await res.json()) as { status?: string }).status;
    },
  };
};

/** Checks `ids` (10 at a time) and returns those not yet ONLINE. */
const offline = async (status: (id: string) => Promise<string | undefined>, ids: string[]) => {
  const left: string[] = [];
  await mapLimit(ids, 10, async (id) => {
    if ((await status(id)) !== 'ONLINE') left.push(id);
  });
  return left;
};

/**
 * Time until every device shows ONLINE through the API. Every GET costs the runtime CPU that presence
 * needs too, so only a sample is polled; once it is all ONLINE, every device is checked, and any
 * straggler polled until it is ONLINE (the time then is when the last one was seen).
 */
const waitAllOnline = async (status: (id: string) => Promise<string | undefined>, ids: string[], startedAt: number) => {
  const deadline = performance.now() + PRESENCE_WAIT_MS;
  const step = Math.max(1, Math.floor(ids.length / 20));
  let pending = [...ids.filter((_, i) => i % step === 0), ids.at(-1)!];
  while (pending.length && performance.now() < deadline) {
    await sleep(250);
    pending = await offline(status, pending);
  }
  let settledAt = performance.now();
  pending = await offline(status, ids);
  while (pending.length && performance.now() < deadline) {
    await sleep(250);
    pending = await offline(status, pending);
    settledAt = performance.now();
  }
  return pending.length ? { stillOffline: pending.length } : { onlineAfterMs: settledAt - startedAt, stillOffline: 0 };
};

/** The local runtime in this process, with `count` devices created through the API (not timed). */
const downlinkRuntime = async (count: number): Promise<Target> => {
  const runtime = await startRuntime(ephemeralSettings());
  try {
    const api = deviceApi(runtime);
    await ensureBenchProduct(`${runtime.httpUrl}/v5/iot/${runtime.project}/products`, {
      'X-Auth-Token': runtime.token,
      'Content-Type': 'application/json',
    });
    const devices: ConnectOrder['devices'] = new Array(count);
    const t = performance.now();
    await mapLimit(devices, 20, async (_d, i) => void (devices[i] = await api.add(i)));
    console.log(
      `created ${count} devices through the API in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`,
    );
    await sleep(1_000); // let the creation's garbage go before the "before" figure
    const { hostname, port } = new URL(runtime.mqttUrl);
    const ids = devices.map((d) => d.deviceId);
    return {
      host: hostname,
      port: Number(port),
      root: runtime.topicRoot,
      devices,
      usage: ownUsage,
      settle: (startedAt) => waitAllOnline(api.status, ids, startedAt),
      stop: runtime.stop,
    };
  } catch (e) {
    await runtime.stop();
    throw e;
  }
};

/** aedes with no hooks, in a process of its own: what the broker alone costs on this machine. */
const plainAedes = async (count: number): Promise<Target> => {
  const broker = forkTs(new URL('./plain-aedes.ts', import.meta.url));
  const { port } = await broker.next<{ port: number }>(30_000);
  return {
    host: '127.0.0.1',
    port,
    root: 'oc',
    // Same ids and Huawei credentials as the runtime's devices; aedes accepts them without looking.
    devices: Array.from({ length: count }, (_, i) => ({
      deviceId: `bench_node-${String(i).padStart(5, '0')}`,
      secret: `bench-secret-${i}`,
    })),
    usage: () => broker.ask<Usage>({ type: 'usage' }, 10_000),
    stop: () => broker.stop({ type: 'stop' }, 10_000),
  };
};

const run = async (start: () => Promise<Target>, concurrency: number): Promise<Result> => {
  const target = await start();
  try {
    return await measure(target, concurrency);
  } finally {
    await target.stop();
  }
};

const rate = (r: Result) => r.report.ok / (r.report.elapsedMs / 1000);

const printTable = (count: number, results: [string, Result][]) => {
  const rows: [string, (r: Result) => string][] = [
    ['connects+subscribes / s', (r) => rate(r).toFixed(0)],
    [`wall time for ${count} (s)`, (r) => (r.report.elapsedMs / 1000).toFixed(2)],
    [
      'connect+subscribe p50 / p99 / max (ms)',
      ({ report: { latencyMs: l } }) => `${l.p50.toFixed(0)} / ${l.p99.toFixed(0)} / ${l.max.toFixed(0)}`,
    ],
    ['failed', (r) => `${r.report.failed}`],
    [
      'CPU s while connecting: broker / clients',
      (r) => `${(r.brokerCpuMs / 1000).toFixed(2)} / ${(r.report.cpuMs / 1000).toFixed(2)}`,
    ],
    ['broker RSS before (MB)', (r) => `${r.rssBefore}`],
    ['broker RSS peak (MB)', (r) => `${r.rssPeak}`],
    ['broker RSS after (MB)', (r) => `${r.rssAfter}`],
    [
      `all ${count} ONLINE via API after (s)`,
      (r) =>
        r.onlineAfterMs !== undefined
          ? (r.onlineAfterMs / 1000).toFixed(2)
          : r.stillOffline
            ? `${r.stillOffline} still offline`
            : '-',
    ],
  ];
  const columns = results.map(([name, r]) => [name, ...rows.map(([, cell]) => cell(r))]);
  const width = (cells: string[]) => Math.max(...cells.map((c) => c.length)) + 2;
  const labelWidth = width(rows.map(([label]) => label));
  const line = (label: string, i: number) =>
    label.padEnd(labelWidth) + columns.map((c) => c[i]!.padStart(width(c))).join('');
  console.log(`\n${line('', 0)}`);
  for (const [i, [label]] of rows.entries()) console.log(line(label, i + 1));
};

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      devices: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '100' },
      'skip-baseline': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const count = Number(values.devices);
  const concurrency = Number(values.concurrency);
  if (!(Number.isInteger(count) && count >= 1 && count <= 20_000 && concurrency >= 1)) throw new Error(USAGE);
  // Stop by ourselves, whatever hangs.
  setTimeout(() => {
    console.error(`connections: still running after ${WHOLE_RUN_MS / 60_000} min, giving up`);
    process.exit(1);
  }, WHOLE_RUN_MS).unref();

  console.log(
    `connections: ${count} devices, ${concurrency} connects in flight, ` +
      `ulimit -n ${checkFileLimit(count)}, node ${process.version}`,
  );
  const results: [string, Result][] = [['downlink runtime', await run(() => downlinkRuntime(count), concurrency)]];
  if (!values['skip-baseline']) results.push(['plain aedes', await run(() => plainAedes(count), concurrency)]);
  printTable(count, results);

  const ours = results[0]![1];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `\naim >= ${AIM.connectsPerSecond} connects/s: ` +
      `${met(rate(ours) >= AIM.connectsPerSecond)} (${rate(ours).toFixed(0)}); ` +
      `aim <= ${AIM.rssMb} MB resident: ${met(ours.rssPeak <= AIM.rssMb)} (peak ${ours.rssPeak} MB)`,
  );
  process.exit(ours.report.failed || ours.stillOffline ? 1 : 0);
};
