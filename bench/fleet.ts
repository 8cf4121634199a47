import type { TopicRoot } from '../shared/domain/topics.ts';
import { connectDevice, type ReplyMode, type SimulatedDevice } from '../tools/simulated-device.ts';
import { mapLimit } from '../shared/map-limit.ts';

/**
 * Simulated devices (tools/simulated-device.ts) in a process of their own, for bench/commands.ts and
 * bench/messages.ts, so their CPU is not counted as the runtime's. Driven over the IPC channel
 * (bench/ipc.ts), one order at a time:
 *
 * - `connect`: connects and subscribes every device (bounded concurrency); they answer requests as told.
 * - `reset`: zeroes the count of downlink messages received (`{root}/devices/{id}/sys/messages/down`).
 * - `count`: answers once `expect` messages have been received since the last reset, or after `timeoutMs`.
 * - `disconnect`: closes every device (the process stays); `close`: the same, then exits.
 *
 * Times are epoch milliseconds (performance.timeOrigin + now), so the parent can compare them with its own.
 */

/** Which broker and devices to connect, and how many at once (also bench/connections-clients.ts). */
export interface ConnectTarget {
  host: string;
  port: number;
  root: TopicRoot;
  devices: { deviceId: string; secret: string }[];
  concurrency: number;
}

export type FleetOrder =
  | (ConnectTarget & { type: 'connect'; reply: ReplyMode })
  | { type: 'reset' }
  | { type: 'count'; expect: number; timeoutMs: number }
  | { type: 'disconnect'; concurrency: number }
  | { type: 'close' };

export interface FleetConnected {
  type: 'connected';
  ok: number;
  failed: number;
  firstErrors: string[];
  /** When the first connect started and the last one finished (epoch ms). */
  startedAt: number;
  finishedAt: number;
  cpuMs: number;
}

export interface FleetCount {
  type: 'count';
  received: number;
  /** Distinct (device, message id) pairs: fewer than `received` means duplicates. */
  distinct: number;
  /** Messages that arrived after a later one to the same device (ids end in a sequence number). */
  outOfOrder: number;
  /** Messages whose topic named another device than the one that got them. */
  misrouted: number;
  firstAt: number;
  lastAt: number;
  /** CPU used since the last reset. */
  cpuMs: number;
}

const now = () => performance.timeOrigin + performance.now();

const devices: SimulatedDevice[] = [];
let received = 0;
let misrouted = 0;
let outOfOrder = 0;
let firstAt = NaN;
let lastAt = NaN;
let seen = new Set<string>();
let lastSeq = new Map<string, number>();
let cpuAtReset = process.cpuUsage();
let waiting: { expect: number; resolve: () => void } | undefined;

const reset = () => {
  received = misrouted = outOfOrder = 0;
  firstAt = lastAt = NaN;
  seen = new Set();
  lastSeq = new Map();
  cpuAtReset = process.cpuUsage();
};

const onDownlink = (deviceId: string) => (m: { topic: string; payload: Buffer }) => {
  if (!m.topic.endsWith('/sys/messages/down')) return;
  const t = now();
  received++;
  if (received === 1) firstAt = t;
  lastAt = t;
  if (!m.topic.includes(`/devices/${deviceId}/`)) misrouted++;
  let id = '';
  try {
    id = String((JSON.parse(m.payload.toString('utf8')) as { id?: unknown }).id);
  } catch {
    // counted, not identified
  }
  seen.add(`${deviceId}/${id}`);
  const seq = Number(/(\d+)$/.exec(id)?.[1] ?? NaN);
  if (Number.isFinite(seq)) {
    if (seq < (lastSeq.get(deviceId) ?? -Infinity)) outOfOrder++;
    lastSeq.set(deviceId, seq);
  }
  if (waiting && received >= waiting.expect) waiting.resolve();
};

const connectAll = async (order: Extract<FleetOrder, { type: 'connect' }>): Promise<FleetConnected> => {
  const errors: string[] = [];
  let ok = 0;
  const cpu = process.cpuUsage();
  const startedAt = now();
  await mapLimit(order.devices, order.concurrency, async ({ deviceId, secret }) => {
    try {
      const d = await connectDevice({
        deviceId,
        secret,
        host: order.host,
        port: order.port,
        root: order.root,
        reply: order.reply,
      });
      d.onMessage(onDownlink(deviceId));
      devices.push(d);
      ok++;
    } catch (e) {
      errors.push((e as Error).message);
    }
  });
  const finishedAt = now();
  const used = process.cpuUsage(cpu);
  return {
    type: 'connected',
    ok,
    failed: errors.length,
    firstErrors: errors.slice(0, 3),
    startedAt,
    finishedAt,
    cpuMs: (used.user + used.system) / 1000,
  };
};

const count = async (expect: number, timeoutMs: number): Promise<FleetCount> => {
  if (received < expect)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      waiting = {
        expect,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  waiting = undefined;
  const used = process.cpuUsage(cpuAtReset);
  return {
    type: 'count',
    received,
    distinct: seen.size,
    outOfOrder,
    misrouted,
    firstAt,
    lastAt,
    cpuMs: (used.user + used.system) / 1000,
  };
};

const disconnectAll = async (concurrency: number) => {
  await mapLimit(devices.splice(0), concurrency, (d) => d.close());
};

process.on('message', (order: FleetOrder) => {
  const answer = (work: Promise<object>) =>
    void work.then(
      (a) => process.send!(a),
      (e: unknown) => process.send!({ type: 'error', message: (e as Error).message }),
    );
  switch (order.type) {
    case 'connect':
      return answer(connectAll(order));
    case 'reset':
      reset();
      return answer(Promise.resolve({ type: 'reset' }));
    case 'count':
      return answer(count(order.expect, order.timeoutMs));
    case 'disconnect':
      return answer(disconnectAll(order.concurrency).then(() => ({ type: 'disconnected' })));
    case 'close':
      return void disconnectAll(200).finally(() => process.exit(0));
  }
});
// Never outlive the benchmark that started us.
process.on('disconnect', () => process.exit(0));
