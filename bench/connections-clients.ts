import { connectDevice, type SimulatedDevice } from '../tools/simulated-device.ts';
import type { ConnectTarget } from './fleet.ts';
import { mapLimit } from '../shared/map-limit.ts';

/**
 * The device side of bench/connections.ts, in its own process so that the clients' memory and CPU are
 * not counted as the broker's. Driven over the IPC channel: `connect`, then `close` (which exits).
 */

export interface ConnectOrder extends ConnectTarget {
  type: 'connect';
}

export interface ConnectReport {
  type: 'connected';
  ok: number;
  failed: number;
  firstErrors: string[];
  elapsedMs: number;
  latencyMs: { p50: number; p99: number; max: number };
  cpuMs: number;
}

const devices: SimulatedDevice[] = [];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const connectAll = async (order: ConnectOrder): Promise<ConnectReport> => {
  const errors: string[] = [];
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  await mapLimit(order.devices, order.concurrency, async ({ deviceId, secret }) => {
    const t = performance.now();
    try {
      // Silent: nothing is sent to the devices here, and the bench measures sign-in, not replies.
      devices.push(
        await connectDevice({
          deviceId,
          secret,
          host: order.host,
          port: order.port,
          root: order.root,
          reply: 'silent',
        }),
      );
      latencies.push(performance.now() - t);
    } catch (e) {
      errors.push((e as Error).message);
    }
  });
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    type: 'connected',
    ok: latencies.length,
    failed: errors.length,
    firstErrors: errors.slice(0, 3),
    elapsedMs,
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
    cpuMs: (used.user + used.system) / 1000,
  };
};

process.on('message', (msg: ConnectOrder | { type: 'close' }) => {
  if (msg.type === 'connect') void connectAll(msg).then((report) => process.send!(report));
  else void mapLimit(devices, 200, (d) => d.close()).then(() => process.exit(0));
});
// Never outlive the benchmark that started us.
process.on('disconnect', () => process.exit(0));
