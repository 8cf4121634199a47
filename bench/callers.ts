import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { mapLimit } from '../shared/map-limit.ts';

/**
 * API callers for bench/commands.ts and bench/messages.ts in a process of their own (the runtime is
 * single-threaded: an HTTP client beside it would take its CPU). Node's fetch (undici) keeps connections
 * alive, so `concurrency` callers hold that many sockets and reuse them. Driven over the IPC channel
 * (bench/ipc.ts): `call` (answers a CallReport), `close` (exits).
 */

export interface CallOrder {
  type: 'call';
  /** `{httpUrl}/v5/iot/{project}/devices` */
  base: string;
  token: string;
  /** Sign each call as Huawei's SDK core does (SDK-HMAC-SHA256) with this access key instead of sending the token. */
  accessKey?: { ak: string; sk: string; project: string };
  method: 'POST';
  /** Path under `base` and JSON body of each call, made in this order. */
  calls: { path: string; body: unknown }[];
  concurrency: number;
  /** How to read a 2xx body: a command's `response`, or a message's `result.status`. */
  kind: 'command' | 'message';
}

export interface CallReport {
  type: 'called';
  n: number;
  startedAt: number;
  elapsedMs: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** HTTP status → count. */
  statuses: Record<string, number>;
  /** `response` (a command answered), the message status, or the error_code → count. */
  outcomes: Record<string, number>;
  firstErrors: string[];
  cpuMs: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const bump = (counts: Record<string, number>, key: string) => void (counts[key] = (counts[key] ?? 0) + 1);

const outcomeOf = (kind: CallOrder['kind'], body: any): string => {
  if (body?.error_code) return String(body.error_code);
  if (kind === 'command') return body?.response !== undefined ? 'response' : 'no response';
  return String(body?.result?.status ?? 'no status');
};

const run = async (order: CallOrder): Promise<CallReport> => {
  const credentials =
    order.accessKey &&
    new BasicCredentials().withAk(order.accessKey.ak).withSk(order.accessKey.sk).withProjectId(order.accessKey.project);
  // The SDK core's own signer, here in the callers' process, so its CPU is not the runtime's.
  const headersFor = (url: string, body: unknown): Record<string, string> => {
    const plain = { 'Content-Type': 'application/json' };
    if (!credentials) return { ...plain, 'X-Auth-Token': order.token };
    const request = {
      method: order.method,
      endpoint: url,
      headers: { ...plain, 'X-Project-Id': order.accessKey!.project },
      queryParams: {},
      data: body,
    };
    return AKSKSigner.sign(request as never, credentials as never) as Record<string, string>;
  };
  const latencies: number[] = new Array(order.calls.length);
  const statuses: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const errors: string[] = [];
  const cpu = process.cpuUsage();
  const startedAt = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  await mapLimit(order.calls, order.concurrency, async ({ path, body }, i) => {
    const t = performance.now();
    try {
      const url = `${order.base}${path}`;
      const res = await fetch(url, {
        method: order.method,
        headers: headersFor(url, body),
        body: JSON.stringify(body),
      });
      const text = await res.text();
      latencies[i] = performance.now() - t;
      bump(statuses, String(res.status));
      bump(outcomes, outcomeOf(order.kind, text ? JSON.parse(text) : undefined));
      if (res.status >= 300 && errors.length < 3) errors.push(`${res.status} ${text.slice(0, 200)}`);
    } catch (e) {
      latencies[i] = performance.now() - t;
      bump(statuses, 'network error');
      if (errors.length < 3) errors.push((e as Error).message);
    }
  });
  const elapsedMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    type: 'called',
    n: order.calls.length,
    startedAt,
    elapsedMs,
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
    statuses,
    outcomes,
    firstErrors: errors,
    cpuMs: (used.user + used.system) / 1000,
  };
};

process.on('message', (order: CallOrder | { type: 'close' }) => {
  if (order.type === 'close') process.exit(0);
  void run(order).then(
    (report) => process.send!(report),
    (e: unknown) => process.send!({ type: 'error', message: (e as Error).message }),
  );
});
process.on('disconnect', () => process.exit(0));
