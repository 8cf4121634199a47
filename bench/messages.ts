import { PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import type { CallOrder, CallReport } from './callers.ts';
import type { FleetConnected, FleetCount, FleetOrder } from './fleet.ts';
import { forkTs } from './ipc.ts';
import { mapLimit } from '../shared/map-limit.ts';
import {
  api,
  askOk,
  capRun,
  cpuMsSince,
  cpuProfiler,
  otherCpu,
  epochMs,
  met,
  ms,
  printTable,
  spread,
  sqsOf,
  waitQueueIdle,
  type Spread,
} from './support.ts';

/**
 * Messages (IoTDA CreateMessage) through the local runtime, in two parts, each against plain MQTT publishes
 * through the same broker to the same devices in the same run:
 *
 * (a) online: POST /messages to devices that are connected and subscribed, `concurrency` callers at once;
 *     every answer must say DELIVERED and the devices must receive every message. The baseline publishes the
 *     same payloads server-side (broker.publish, QoS 1) with as many in flight.
 * (b) flush: every device gets `per-device` messages while offline (PENDING; not timed), then all reconnect
 *     at once (bounded concurrency); timed from the first connect until every message is received by its
 *     device and marked DELIVERED. The baseline is a server-side publish (QoS 1) of the same messages to the
 *     same devices while connected, each device's in order, `concurrency` devices at a time.
 *
 * The runtime runs in this process (its CPU is this process's); the devices (bench/fleet.ts) and the API
 * callers (bench/callers.ts) run in child processes. While the flush runs, nothing polls the runtime: the
 * devices count what they receive and report when they have it all; afterwards, the notification queue
 * (purged before the reconnect) is read once to count DELIVERED notifications and take the time of the last
 * one (`event_time_ms`), and every device's message list is checked through the API.
 */

const USAGE =
  'npm run bench -- messages [--part a|b|both] [--devices 100] [--messages 5000] [--concurrency 50] ' +
  '[--flush-devices 1000] [--per-device 20] [--reconnect-concurrency 100] [--flush-cap-s 300] [--cpu-prof DIR]';

// The aims.
const AIM = { messagesPerSecond: 1_000, flushOverPublish: 3 };
const WHOLE_RUN_MS = 15 * 60_000;
// The contract keeps a device's newest 20 messages: more PENDING ones than that push the oldest out.
const HISTORY = 20;

type Fleet = ReturnType<typeof forkTs>;
type Callers = ReturnType<typeof forkTs>;
type Device = { deviceId: string; secret: string };

/** What the platform publishes for a standard-format message (shared/domain/messages.ts messagePayload). */
const payloadOf = (messageId: string, k: number) =>
  Buffer.from(JSON.stringify({ name: 'bench', id: messageId, content: { k } }));
/** Ids end in the per-device sequence number, so the devices can check the order they get them in. */
const messageId = (part: string, device: number, k: number) => `${part}-${device}-${String(k).padStart(4, '0')}`;

const connectOrder = (runtime: Runtime, devices: Device[], concurrency: number): FleetOrder => {
  const { hostname, port } = new URL(runtime.mqttUrl);
  return {
    type: 'connect',
    host: hostname,
    port: Number(port),
    root: runtime.topicRoot,
    devices,
    concurrency,
    reply: 'echo',
  };
};

const connectAll = async (fleet: Fleet, runtime: Runtime, devices: Device[], concurrency: number) => {
  const c = await askOk<FleetConnected>(fleet.ask(connectOrder(runtime, devices, concurrency), 300_000));
  if (c.failed) throw new Error(`${c.failed} devices failed to connect: ${c.firstErrors.join('; ')}`);
  return c;
};

const reset = (fleet: Fleet) => askOk(fleet.ask({ type: 'reset' }, 10_000));
const counted = (fleet: Fleet, expect: number, timeoutMs: number) =>
  askOk<FleetCount>(fleet.ask({ type: 'count', expect, timeoutMs }, timeoutMs + 30_000));

/** Server-side QoS 1 publishes; `order` lists, per worker slot, what to publish one after another. */
const publishAll = async (runtime: Runtime, groups: { topic: string; payload: Buffer }[][], concurrency: number) => {
  const latencies: number[] = [];
  await mapLimit(groups, concurrency, async (group) => {
    for (const { topic, payload } of group) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) =>
        runtime.broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (e) =>
          e ? reject(e) : resolve(),
        ),
      );
      latencies.push(performance.now() - t);
    }
  });
  return latencies;
};

const downTopic = (runtime: Runtime, deviceId: string) => `${runtime.topicRoot}/devices/${deviceId}/sys/messages/down`;

const callMessages = (
  callers: Callers,
  runtime: Runtime,
  base: string,
  calls: CallOrder['calls'],
  concurrency: number,
) =>
  askOk<CallReport>(
    callers.ask(
      {
        type: 'call',
        base,
        token: runtime.token,
        method: 'POST',
        calls,
        concurrency,
        kind: 'message',
      } satisfies CallOrder,
      600_000,
    ),
  );

const fmtCounts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

// ---------------------------------------------------------------------------------------------------------
// (a) online devices

interface OnlineResult {
  n: number;
  elapsedMs: number;
  /** From the first call until the devices had every message. */
  allReceivedMs: number;
  latencyMs: Spread;
  latencyWhat: string;
  delivered: number | undefined;
  outcomes?: Record<string, number>;
  count: FleetCount;
  runtimeCpuMs: number;
}

/** Runs a phase, under the CPU profiler when asked; `untimed` phases are left out of the other-processes tally. */
type Profiled = <T>(name: string, work: () => Promise<T>, untimed?: 'untimed') => Promise<T>;

const online = async (opts: { devices: number; messages: number; concurrency: number }, profiled: Profiled) => {
  const runtime = await startRuntime(ephemeralSettings());
  const fleet = forkTs(new URL('./fleet.ts', import.meta.url));
  const callers = forkTs(new URL('./callers.ts', import.meta.url));
  try {
    const client = api(runtime);
    const devices = await client.addDevices(opts.devices, 'online-');
    await connectAll(fleet, runtime, devices, 50);
    await waitQueueIdle(runtime, 'presence', 60_000);
    console.log(`(a) created and connected ${opts.devices} devices (not timed)`);

    // Message i goes to device i % devices: one device's messages never overlap while fewer than `devices` are
    // in flight.
    const plan = (part: string, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const d = i % devices.length;
        return {
          device: devices[d]!.deviceId,
          id: messageId(part, d, Math.floor(i / devices.length)),
          k: Math.floor(i / devices.length),
        };
      });

    const runApi = async (part: string, n: number): Promise<OnlineResult> => {
      await reset(fleet);
      const calls = plan(part, n).map((m) => ({
        path: `/${m.device}/messages`,
        body: { message_id: m.id, name: 'bench', message: { k: m.k } },
      }));
      const cpu = process.cpuUsage();
      const r = await callMessages(callers, runtime, client.base, calls, opts.concurrency);
      const runtimeCpuMs = cpuMsSince(cpu);
      const count = await counted(fleet, n, 30_000);
      return {
        n,
        elapsedMs: r.elapsedMs,
        allReceivedMs: count.lastAt - r.startedAt,
        latencyMs: r.latencyMs,
        latencyWhat: 'HTTP call',
        delivered: r.outcomes.DELIVERED ?? 0,
        outcomes: r.outcomes,
        count,
        runtimeCpuMs,
      };
    };
    const runPlain = async (part: string, n: number): Promise<OnlineResult> => {
      await reset(fleet);
      const groups = plan(part, n).map((m) => [{ topic: downTopic(runtime, m.device), payload: payloadOf(m.id, m.k) }]);
      const cpu = process.cpuUsage();
      const startedAt = epochMs();
      const t0 = performance.now();
      const latencies = await publishAll(runtime, groups, opts.concurrency);
      const elapsedMs = performance.now() - t0;
      const runtimeCpuMs = cpuMsSince(cpu);
      const count = await counted(fleet, n, 30_000);
      return {
        n,
        elapsedMs: Math.max(elapsedMs, count.lastAt - startedAt),
        allReceivedMs: count.lastAt - startedAt,
        latencyMs: spread(latencies),
        latencyWhat: 'publish callback',
        delivered: undefined,
        count,
        runtimeCpuMs,
      };
    };

    // Warm-up, both ways (ids of their own; they count towards each device's history of 20 like any other).
    await runPlain('wp', Math.min(500, opts.messages));
    await runApi('wa', Math.min(500, opts.messages));
    const plain = await profiled('messages-a-plain', () => runPlain('p', opts.messages));
    console.log(`  plain publish: ${plain.n} in ${(plain.elapsedMs / 1000).toFixed(2)} s`);
    const viaApi = await profiled('messages-a-api', () => runApi('a', opts.messages));
    console.log(`  POST /messages: ${viaApi.n} in ${(viaApi.elapsedMs / 1000).toFixed(2)} s`);
    return { plain, viaApi };
  } finally {
    await callers.stop({ type: 'close' }, 10_000);
    await fleet.stop({ type: 'close' }, 60_000);
    await runtime.stop();
  }
};

const printOnline = (
  o: { plain: OnlineResult; viaApi: OnlineResult },
  opts: { devices: number; concurrency: number },
) => {
  const rate = (r: OnlineResult) => r.n / (r.elapsedMs / 1000);
  const cols = [o.plain, o.viaApi];
  console.log(`\n(a) ${o.viaApi.n} messages to ${opts.devices} online devices, ${opts.concurrency} in flight`);
  printTable(
    ['plain broker.publish', 'POST /messages'],
    [
      ['messages', ...cols.map((r) => `${r.n}`)],
      ['messages / s (until the last answer)', ...cols.map((r) => rate(r).toFixed(0))],
      ['all received by the devices after (s)', ...cols.map((r) => (r.allReceivedMs / 1000).toFixed(2))],
      [
        'latency p50 / p99 / max (ms)',
        ...cols.map((r) => `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.max)}`),
      ],
      ['  (latency of)', ...cols.map((r) => r.latencyWhat)],
      ['answered DELIVERED', ...cols.map((r) => (r.delivered === undefined ? '-' : `${r.delivered}`))],
      ['received by devices (distinct / total)', ...cols.map((r) => `${r.count.distinct} / ${r.count.received}`)],
      ['received out of order / misrouted', ...cols.map((r) => `${r.count.outOfOrder} / ${r.count.misrouted}`)],
      ['runtime process CPU per message (ms)', ...cols.map((r) => (r.runtimeCpuMs / r.n).toFixed(2))],
      ['devices process CPU per message (ms)', ...cols.map((r) => (r.count.cpuMs / r.n).toFixed(2))],
    ],
  );
  if (o.viaApi.outcomes && o.viaApi.delivered !== o.viaApi.n)
    console.log(`POST /messages answers: ${fmtCounts(o.viaApi.outcomes)}`);
  const r = rate(o.viaApi);
  const complete = o.viaApi.delivered === o.viaApi.n && o.viaApi.count.distinct === o.viaApi.n;
  console.log(
    `\naim >= ${AIM.messagesPerSecond} messages/s: ${met(r >= AIM.messagesPerSecond)} (${r.toFixed(0)}); ` +
      `every message DELIVERED and received: ${complete ? 'yes' : 'NO'}`,
  );
  return complete;
};

// ---------------------------------------------------------------------------------------------------------
// (b) flush on reconnect

interface FlushResult {
  n: number;
  connectedMs?: number;
  /** From the first connect (flush) or the first publish (plain) until the devices had every message. */
  receivedMs: number;
  /** Until the last DELIVERED notification's event time (flush only). */
  deliveredMs?: number;
  /** The larger of the two: the figure compared. */
  totalMs: number;
  complete: boolean;
  count: FleetCount;
  deliveredNotified?: number;
  apiCheck?: { delivered: number; other: Record<string, number> };
  runtimeCpuMs: number;
}

/** Reads every notification now in the queue (each once: hidden, not deleted); the DELIVERED ones for `prefix`. */
const deliveredNotifications = async (runtime: Runtime, prefix: string) => {
  const sqs = sqsOf(runtime);
  const ids = new Set<string>();
  let last = NaN;
  let read = 0;
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queueUrls.notifications,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 3_600,
      }),
    );
    const messages = out.Messages ?? [];
    if (!messages.length) break;
    read += messages.length;
    for (const m of messages) {
      const e = JSON.parse(m.Body!) as {
        resource: string;
        event_time_ms: string;
        notify_data: { body: { message_id?: string; status?: string } };
      };
      const b = e.notify_data.body;
      if (e.resource !== 'device.message.status' || b.status !== 'DELIVERED' || !b.message_id?.startsWith(prefix))
        continue;
      ids.add(b.message_id);
      last = Math.max(last || 0, Date.parse(e.event_time_ms));
    }
  }
  sqs.destroy();
  return { delivered: ids.size, lastAt: last, read };
};

/** Every device's message list through the API (10 at a time): how many of ours are DELIVERED, and the rest. */
const checkLists = async (runtime: Runtime, devices: Device[], prefix: string) => {
  const client = api(runtime);
  let delivered = 0;
  const other: Record<string, number> = {};
  await mapLimit(devices, 10, async ({ deviceId }) => {
    const res = await client.call('GET', `/${deviceId}/messages`);
    for (const m of (res.body?.messages ?? []) as { message_id: string; status: string }[]) {
      if (!m.message_id.startsWith(prefix)) continue;
      if (m.status === 'DELIVERED') delivered++;
      else other[m.status] = (other[m.status] ?? 0) + 1;
    }
  });
  return { delivered, other };
};

const flush = async (
  opts: { devices: number; perDevice: number; concurrency: number; reconnectConcurrency: number; capMs: number },
  profiled: Profiled,
) => {
  const runtime = await startRuntime(ephemeralSettings());
  const fleet = forkTs(new URL('./fleet.ts', import.meta.url));
  const callers = forkTs(new URL('./callers.ts', import.meta.url));
  const n = opts.devices * opts.perDevice;
  try {
    const client = api(runtime);
    let t = performance.now();
    const devices = await client.addDevices(opts.devices, 'flush-');
    await connectAll(fleet, runtime, devices, opts.reconnectConcurrency);
    await waitQueueIdle(runtime, 'presence', 120_000);
    console.log(
      `(b) created and connected ${opts.devices} devices ` +
        `in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`,
    );

    // Baseline: the same messages, published server-side to the connected devices, each device's in order.
    await reset(fleet);
    const groups = devices.map(({ deviceId }, d) =>
      Array.from({ length: opts.perDevice }, (_, k) => ({
        topic: downTopic(runtime, deviceId),
        payload: payloadOf(messageId('p', d, k), k),
      })),
    );
    let cpu = process.cpuUsage();
    const publishStartedAt = epochMs();
    await publishAll(runtime, groups, opts.concurrency);
    const plainCpuMs = cpuMsSince(cpu);
    const plainCount = await counted(fleet, n, opts.capMs);
    const plainMs = plainCount.lastAt - publishStartedAt;
    const plain: FlushResult = {
      n,
      receivedMs: plainMs,
      totalMs: plainMs,
      complete: plainCount.distinct === n,
      count: plainCount,
      runtimeCpuMs: plainCpuMs,
    };
    console.log(`  plain publish: ${plainCount.received} received in ${(plainMs / 1000).toFixed(2)} s`);

    // Offline: every device disconnects, and its messages are created (PENDING), oldest first.
    await askOk(fleet.ask({ type: 'disconnect', concurrency: opts.reconnectConcurrency }, 120_000));
    await waitQueueIdle(runtime, 'presence', 120_000);
    t = performance.now();
    const calls = Array.from({ length: n }, (_, i) => {
      const d = i % opts.devices;
      const k = Math.floor(i / opts.devices);
      return {
        path: `/${devices[d]!.deviceId}/messages`,
        body: { message_id: messageId('f', d, k), name: 'bench', message: { k } },
      };
    });
    const created = await profiled(
      'messages-b-create-offline',
      () => callMessages(callers, runtime, client.base, calls, opts.concurrency),
      'untimed',
    );
    if ((created.outcomes.PENDING ?? 0) !== n)
      throw new Error(`expected ${n} PENDING, got ${fmtCounts(created.outcomes)}; ${created.firstErrors.join('; ')}`);
    console.log(
      `  created ${n} PENDING messages in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(${(n / (created.elapsedMs / 1000)).toFixed(0)}/s, not timed)`,
    );
    const sqs = sqsOf(runtime);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: runtime.queueUrls.notifications }));
    sqs.destroy();

    // The flush: every device reconnects at once; the devices report when they have all n.
    await reset(fleet);
    cpu = process.cpuUsage();
    const { connected, count } = await profiled('messages-b-flush', async () => {
      const connected = await connectAll(fleet, runtime, devices, opts.reconnectConcurrency);
      const left = opts.capMs - (epochMs() - connected.startedAt);
      return { connected, count: await counted(fleet, n, Math.max(0, left)) };
    });
    const flushCpuMs = cpuMsSince(cpu);
    const receivedMs = count.lastAt - connected.startedAt;
    console.log(
      `  flush: ${count.received} received, the last ${(receivedMs / 1000).toFixed(2)} s after the first connect`,
    );
    // The flush runs in the presence function: once its queue is idle, every DELIVERED write and notification is
    // done. Past the cap, it is given only a little longer: what the counts say then is what happened.
    await waitQueueIdle(runtime, 'presence', count.received === n ? opts.capMs : 10_000).catch((e: unknown) =>
      console.log(`  ${(e as Error).message}; counting what was delivered so far`),
    );
    const notified = await deliveredNotifications(runtime, 'f-');
    const apiCheck = await checkLists(runtime, devices, 'f-');
    const deliveredMs = notified.lastAt - connected.startedAt;
    const complete = count.distinct === n && notified.delivered === n && apiCheck.delivered === n;
    const flushed: FlushResult = {
      n,
      connectedMs: connected.finishedAt - connected.startedAt,
      receivedMs,
      deliveredMs,
      totalMs: Math.max(receivedMs, deliveredMs),
      complete,
      count,
      deliveredNotified: notified.delivered,
      apiCheck,
      runtimeCpuMs: flushCpuMs,
    };
    return { plain, flushed };
  } finally {
    await callers.stop({ type: 'close' }, 10_000);
    await fleet.stop({ type: 'close' }, 60_000);
    await runtime.stop();
  }
};

const printFlush = (
  f: { plain: FlushResult; flushed: FlushResult },
  opts: { devices: number; perDevice: number; concurrency: number; reconnectConcurrency: number },
) => {
  const s = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : (v / 1000).toFixed(2));
  const cols = [f.plain, f.flushed];
  console.log(
    `\n(b) ${f.flushed.n} messages, ${opts.perDevice} to each of ${opts.devices} devices: ` +
      `plain publish ${opts.concurrency} devices at a time; ` +
      `flush on reconnect, ${opts.reconnectConcurrency} connects in flight`,
  );
  printTable(
    ['plain broker.publish', 'flush on reconnect'],
    [
      ['messages', ...cols.map((r) => `${r.n}`)],
      ['all devices connected after (s)', ...cols.map((r) => s(r.connectedMs))],
      [
        'all received by the devices after (s)',
        ...cols.map((r) =>
          r.count.received < r.n ? `only ${r.count.received} by ${s(r.receivedMs)}` : s(r.receivedMs),
        ),
      ],
      ['last DELIVERED notification after (s)', ...cols.map((r) => s(r.deliveredMs))],
      ['messages / s', ...cols.map((r) => (r.complete ? (r.n / (r.totalMs / 1000)).toFixed(0) : '-'))],
      ['received by devices (distinct / total)', ...cols.map((r) => `${r.count.distinct} / ${r.count.received}`)],
      ['received out of order / misrouted', ...cols.map((r) => `${r.count.outOfOrder} / ${r.count.misrouted}`)],
      [
        'DELIVERED: notified / in the API lists',
        ...cols.map((r) => (r.apiCheck ? `${r.deliveredNotified} / ${r.apiCheck.delivered}` : '-')),
      ],
      ['runtime process CPU (s)', ...cols.map((r) => (r.runtimeCpuMs / 1000).toFixed(1))],
      ['devices process CPU (s)', ...cols.map((r) => (r.count.cpuMs / 1000).toFixed(1))],
    ],
  );
  if (f.flushed.apiCheck && Object.keys(f.flushed.apiCheck.other).length)
    console.log(`not DELIVERED in the API lists: ${fmtCounts(f.flushed.apiCheck.other)}`);
  const ratio = f.flushed.totalMs / f.plain.totalMs;
  console.log(
    `\naim flush <= ${AIM.flushOverPublish}x the plain publish: ` +
      `${met(f.flushed.complete && ratio <= AIM.flushOverPublish)} ` +
      `(x${ratio.toFixed(1)}: ${s(f.flushed.totalMs)} s vs ${s(f.plain.totalMs)} s` +
      `${f.flushed.complete ? '' : '; INCOMPLETE'})`,
  );
  return f.flushed.complete && f.plain.complete;
};

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      part: { type: 'string', default: 'both' },
      devices: { type: 'string', default: '100' },
      messages: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '50' },
      'flush-devices': { type: 'string', default: '1000' },
      'per-device': { type: 'string', default: String(HISTORY) },
      'reconnect-concurrency': { type: 'string', default: '100' },
      'flush-cap-s': { type: 'string', default: '300' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const num = (v: string | undefined) => Number(v);
  const o = {
    devices: num(values.devices),
    messages: num(values.messages),
    concurrency: num(values.concurrency),
    flushDevices: num(values['flush-devices']),
    perDevice: num(values['per-device']),
    reconnectConcurrency: num(values['reconnect-concurrency']),
    capMs: num(values['flush-cap-s']) * 1000,
  };
  const positive = Object.values(o).every((v) => Number.isInteger(v) && v >= 1);
  if (
    !positive ||
    !['a', 'b', 'both'].includes(values.part!) ||
    o.perDevice > HISTORY ||
    o.flushDevices > 10_000 ||
    o.messages > 100_000
  )
    throw new Error(USAGE);
  const cpuProfiled = cpuProfiler(values['cpu-prof']);
  const others = otherCpu();
  const profiled: Profiled = (name, work, untimed) =>
    untimed ? cpuProfiled(name, work) : others.during(() => cpuProfiled(name, work));
  capRun('messages', WHOLE_RUN_MS);
  console.log(`messages: part ${values.part}, node ${process.version}`);

  let ok = true;
  if (values.part !== 'b') {
    const a = await online({ devices: o.devices, messages: o.messages, concurrency: o.concurrency }, profiled);
    ok = printOnline(a, o) && ok;
  }
  if (values.part !== 'a') {
    const b = await flush(
      {
        devices: o.flushDevices,
        perDevice: o.perDevice,
        concurrency: o.concurrency,
        reconnectConcurrency: o.reconnectConcurrency,
        capMs: o.capMs,
      },
      profiled,
    );
    ok =
      printFlush(b, {
        devices: o.flushDevices,
        perDevice: o.perDevice,
        concurrency: o.concurrency,
        reconnectConcurrency: o.reconnectConcurrency,
      }) && ok;
  }
  console.log(`\n${others.report()}`);
  process.exit(ok ? 0 : 1);
};
