import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFileSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import type { Runtime } from '../local/runtime.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { DEFAULT_REGION } from '../shared/aws-names.ts';

/** Helpers shared by bench/commands.ts and bench/messages.ts (the parent side; no vitest). */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wall-clock time with sub-millisecond precision, comparable between this process and its children. */
export const epochMs = () => performance.timeOrigin + performance.now();

export const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const MB = 2 ** 20;

/**
 * What this process (the runtime's) spends over a phase: CPU, the share of the time its event loop was busy
 * (1 is saturated: work waits for the thread), time in GC pauses, and its resident memory at the start and
 * at the peak (sampled every 100 ms; a sample may wait while the loop is busy, a peak lasts longer than that).
 */
export const processLoad = () => {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ type: 'gc' });
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100);
  return {
    end: () => {
      clearInterval(sampler);
      gc.disconnect();
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      return {
        cpuMs: cpuMsSince(cpu),
        loopBusy: performance.eventLoopUtilization(loop).utilization,
        gcMs,
        rssBeforeMb: Math.round(rssBefore / MB),
        rssPeakMb: Math.round(rssPeak / MB),
      };
    },
  };
};
export type ProcessLoad = ReturnType<ReturnType<typeof processLoad>['end']>;

/**
 * What a request to one of this process's HTTP servers is: the AWS operation it names, else its method and first
 * path segment.
 */
const callName = (req: IncomingMessage) => {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string')
    return target
      .replace(/^DynamoDB_\d+\./, 'DynamoDB ')
      .replace(/^AmazonSQS\./, 'SQS ')
      .replace(/^AWSStepFunctions\./, 'SFN ');
  if (req.url?.startsWith('/topics/')) return 'iot-data Publish';
  return `${req.method} /${req.url?.split(/[/?]/)[1] ?? ''}`;
};

/**
 * Counts the requests this process's HTTP servers (the emulators, the API Gateway stand-in) take over a
 * phase, by operation, through Node's `http.server.request.start` diagnostics channel: nothing in the
 * runtime changes, and each count costs a map update.
 */
export const serverCalls = () => {
  const counts = new Map<string, number>();
  const onRequest = (m: unknown) => {
    const name = callName((m as { request: IncomingMessage }).request);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  subscribe('http.server.request.start', onRequest);
  return {
    /** Stops counting; the counts, most first. */
    end: () => {
      unsubscribe('http.server.request.start', onRequest);
      return [...counts].sort((a, b) => b[1] - a[1]);
    },
  };
};

export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

export const spread = (latencies: number[]): Spread => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN };
};

export const ms = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
export const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** Prints a table the way bench/connections.ts does: labels on the left, one right-aligned column per run. */
export const printTable = (header: string[], rows: [string, ...string[]][]) => {
  const columns = header.map((h, c) => [h, ...rows.map((r) => r[c + 1] ?? '')]);
  const width = (cells: string[]) => Math.max(...cells.map((c) => c.length)) + 2;
  const labelWidth = width(rows.map(([label]) => label));
  const line = (label: string, i: number) =>
    label.padEnd(labelWidth) + columns.map((c) => c[i]!.padStart(width(c))).join('');
  console.log(`\n${line('', 0)}`);
  for (const [i, [label]] of rows.entries()) console.log(line(label, i + 1));
};

/** A child's answer (bench/fleet.ts, bench/callers.ts), or the error it reported as `{type: 'error'}`. */
export const askOk = async <T>(answer: Promise<unknown>): Promise<T> => {
  const a = (await answer) as { type?: string; message?: string };
  if (a.type === 'error') throw new Error(a.message);
  return a as T;
};

/** Stops the whole benchmark after `ms`, whatever hangs. */
export const capRun = (name: string, ms: number) =>
  setTimeout(() => {
    console.error(`${name}: still running after ${ms / 60_000} min, giving up`);
    process.exit(1);
  }, ms).unref();

/** Each side holds one socket per device; refuse to start rather than fail half-way with EMFILE. */
export const checkFileLimit = (count: number) => {
  const limit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  if (limit !== 'unlimited' && Number(limit) < count + 500)
    throw new Error(
      `ulimit -n is ${limit}; ${count} connections need at least ${count + 500} (raise it with ulimit -n)`,
    );
  return limit;
};

/**
 * The product the benchmarks' devices belong to, whose model defines the command they send, so every command
 * pays for its check against the model as an application's would; 409 when it exists.
 */
export const ensureBenchProduct = async (productsUrl: string, headers: Record<string, string>) => {
  const ping = {
    command_name: 'ping',
    paras: [
      { para_name: 'i', data_type: 'int', min: '0' },
      { para_name: 'level', data_type: 'int', min: '0', max: '100' },
    ],
  };
  const body = {
    product_id: 'bench',
    name: 'bench',
    device_type: 'Bench',
    protocol_type: 'MQTT',
    service_capabilities: [{ service_id: 'Bench', service_type: 'Bench', commands: [ping] }],
  };
  const res = await fetch(productsUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status !== 201 && res.status !== 409) throw new Error(`create product: ${res.status} ${await res.text()}`);
};

export const api = (runtime: Runtime) => {
  const project = `${runtime.httpUrl}/v5/iot/${runtime.project}`;
  const base = `${project}/devices`;
  const headers = { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' };
  const callUrl = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const call = (method: string, path: string, body?: unknown) => callUrl(method, `${base}${path}`, body);
  return {
    base,
    call,
    /** A call under `/batchtasks`. */
    tasks: (method: string, path: string, body?: unknown) => callUrl(method, `${project}/batchtasks${path}`, body),
    /** Registers `count` devices `bench_{prefix}{i}` (20 requests in flight); returns their ids and secrets. */
    addDevices: async (count: number, prefix: string) => {
      await ensureBenchProduct(`${project}/products`, headers);
      const devices: { deviceId: string; secret: string }[] = new Array(count);
      await mapLimit(devices, 20, async (_d, i) => {
        const secret = `bench-secret-${i}`;
        const body = { node_id: `${prefix}${String(i).padStart(5, '0')}`, product_id: 'bench', auth_info: { secret } };
        const res = await call('POST', '', body);
        if (res.status !== 201) throw new Error(`add device ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        devices[i] = { deviceId: res.body.device_id as string, secret };
      });
      return devices;
    },
  };
};

export const sqsOf = (runtime: Runtime) =>
  new SQSClient({
    region: DEFAULT_REGION,
    endpoint: runtime.sqsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/**
 * Waits until a queue has nothing waiting or in flight (every event sent so far handled), as
 * test/support/runtime.ts does; idle twice in a row, since a lifecycle event may still be on its way from
 * the broker to the queue when the first read says 0.
 */
export const waitQueueIdle = async (runtime: Runtime, queue: keyof Runtime['queueUrls'], timeoutMs: number) => {
  const sqs = sqsOf(runtime);
  const deadline = performance.now() + timeoutMs;
  let idleReads = 0;
  while (idleReads < 2) {
    if (performance.now() > deadline) throw new Error(`${queue} queue still busy after ${timeoutMs} ms`);
    await sleep(100);
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: runtime.queueUrls[queue],
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    idleReads =
      a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0' ? idleReads + 1 : 0;
  }
  sqs.destroy();
};

/**
 * With a directory, runs each named phase under the V8 CPU profiler of this process (the runtime's) and
 * writes `{dir}/{name}.cpuprofile` (open in Chrome DevTools or VS Code); without one, just runs it.
 * Sampling costs some CPU: figures from a profiled run are a little worse.
 */
export const cpuProfiler = (dir: string | undefined) => {
  let session: Session | undefined;
  return async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (!dir) return work();
    if (!session) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
    }
    await session.post('Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      const file = join(resolve(dir), `${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`  CPU profile of ${name}: ${file}`);
    }
  };
};

// Linux USER_HZ: /proc reports CPU time in 1/100 s.
const TICK_MS = 10;

const ownTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  const self = Number(fields[11]) + Number(fields[12]);
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return self + children.reduce((sum, c) => sum + ownTicks(c), 0);
};

/**
 * CPU time (user + system; not interrupts, which loopback traffic of our own fills) of the whole machine and of
 * this process with its children (the runtime, the devices, the callers). The difference over a phase is what
 * other processes took: on a shared 2-core machine, a run that another job disturbed says so. Undefined where
 * /proc is not there.
 */
export const machineCpu = (): { busyMs: number; oursMs: number } | undefined => {
  try {
    const [user, nice, system] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number) as number[];
    return { busyMs: (user! + nice! + system!) * TICK_MS, oursMs: ownTicks(process.pid) * TICK_MS };
  } catch {
    return undefined;
  }
};

/** Accumulates, over the phases it wraps, the CPU other processes used meanwhile. */
export const otherCpu = () => {
  let otherMs = 0;
  let wallMs = 0;
  let known = true;
  return {
    during: async <T>(work: () => Promise<T>): Promise<T> => {
      const before = machineCpu();
      const t = performance.now();
      try {
        return await work();
      } finally {
        const after = machineCpu();
        wallMs += performance.now() - t;
        if (before && after) otherMs += Math.max(0, after.busyMs - before.busyMs - (after.oursMs - before.oursMs));
        else known = false;
      }
    },
    report: () =>
      known
        ? `other processes on this machine used ${(otherMs / 1000).toFixed(1)} s of CPU ` +
          `during the ${(wallMs / 1000).toFixed(1)} s of timed phases`
        : 'CPU of other processes: unknown (no /proc)',
  };
};
