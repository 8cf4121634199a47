import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { type Runtime, startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { newUuid } from '../shared/ids.ts';
import { deviceHeader, envelope, type NotificationEnvelope } from '../shared/domain/notifications.ts';
import { createApiToken } from '../shared/use-cases/manage-api-tokens.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { forkTs } from './ipc.ts';
import { cpuMsSince, epochMs, met, ms, printTable, sleep, spread, sqsOf, waitQueueIdle } from './support.ts';

/**
 * HTTP push (CONTRACT.md §7) through the local runtime, in two parts:
 *
 * (a) throughput: `count` notifications sent through the runtime's notifier (the path every use case takes:
 *     the operator's queue and the push-route queue at once), `concurrency` at a time. The baseline reads
 *     them from the notification queue as an application would (4 pollers, 10 a receive, deleted); then,
 *     with one active rule whose action points at a receiver answering 200 at once, the same count again,
 *     timed until the receiver has every push. Both from the first send to the last arrival.
 * (b) isolation: notifications paced at `rate`/s for `seconds` to a fast receiver's project, and as many to a
 *     second project's receiver; the latency of each push to the fast one (notifier call to arrival) when the
 *     second answers at once, then when it never answers (each of its pushes holds a POST 15 s). The same load
 *     both times, so the difference is the hanging alone; the p99 should stay within 2x.
 *
 * The runtime and the sender share this process; the application (receivers and queue reader) has its own,
 * as a real one would (bench/push-application.ts), so the runtime's CPU per notification is the runtime's.
 */

const USAGE = 'npm run bench -- push [--part a|b|both] [--count 5000] [--concurrency 50] [--rate 50] [--seconds 20]';

// The aims: IoTDA's default flow-control limit, and the hanging receiver's effect on the fast one.
const AIM = { pushesPerSecond: 800, hangingP99Over: 2 };

const notification = (project: string, i: number): NotificationEnvelope =>
  envelope({
    resource: 'device.message.status',
    event: 'update',
    at: Date.now(),
    requestId: newUuid(),
    header: deviceHeader({ project, deviceId: `${project}_bench`, nodeId: 'bench', productId: 'bench' }),
    body: { message_id: `m-${i}`, name: 'bench', topic: 'bench', status: 'DELIVERED', timestamp: '' },
  });

/** An active rule of `project` with an action to `url` (through the API, as an application makes one). */
const route = async (runtime: Runtime, project: string, url: string) => {
  const { token } = await createApiToken(runtime.deps, [project], `bench-${project}`);
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${runtime.httpUrl}/v5/iot/${project}/routing-rule${path}`, {
      method,
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, string>;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const rule = await call('POST', '/rules', {
    rule_name: 'bench',
    subject: { resource: 'device.message.status', event: 'update' },
    app_type: 'APP',
  });
  await call('POST', '/actions', {
    rule_id: rule.rule_id,
    channel: 'HTTP_FORWARDING',
    channel_detail: { http_forwarding: { url, token: 'benchtoken1' } },
  });
  await call('PUT', `/rules/${rule.rule_id}`, { active: true });
};

type Arrival = { requestId: string; at: number; signature: string };

/**
 * The application's side in a process of its own (bench/push-application.ts), as a real application's
 * would be: its receivers and its queue reader cost the runtime's process nothing.
 */
const startApplication = async (runtime: Runtime) => {
  const listeners = new Map<number, (a: Arrival) => void>();
  const app = forkTs(new URL('./push-application.ts', import.meta.url), (event) => {
    for (const [ref, requestId, at, signature] of event as [number, string, number, string][])
      listeners.get(ref)?.({ requestId, at, signature });
  });
  await app.next(60_000);
  return {
    /** A receiver answering 200 at once (or never, `hang`); `onPush` gets each push it had. */
    receiver: async (opts: { token?: string; hang?: boolean }, onPush: (a: Arrival) => void = () => {}) => {
      const { ref, url } = await app.ask<{ ref: number; url: string }>({ start: opts }, 10_000);
      listeners.set(ref, onPush);
      return {
        url,
        close: async () => {
          await app.ask({ close: ref }, 30_000);
          listeners.delete(ref);
        },
      };
    },
    /** Reads the notification queue until `count` have come; resolves with when the last came. */
    readQueue: (count: number) =>
      app
        .ask<{ last: number }>(
          { read: { endpoint: runtime.sqsUrl, queueUrl: runtime.queueUrls.notifications, count } },
          600_000,
        )
        .then((r) => r.last),
    stop: () => app.stop({ exit: true }, 5_000),
  };
};
type Application = Awaited<ReturnType<typeof startApplication>>;

const partA = async (runtime: Runtime, app: Application, count: number, concurrency: number) => {
  const send = async (project: string) => {
    const start = epochMs();
    await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      (i) => runtime.deps.notifier.send(notification(project, i)),
    );
    return start;
  };
  // Baseline: nothing routes project "queue-only"; its notifications go to the queue (and through push-route).
  const reading = app.readQueue(count);
  const queueCpu = process.cpuUsage();
  const queueStart = await send('queue-only');
  const queueEnd = await reading;
  const queueCpuMs = cpuMsSince(queueCpu);
  await waitQueueIdle(runtime, 'push-route', 120_000);

  let arrived = 0;
  let lastArrival = 0;
  let resolveAll: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const receiver = await app.receiver({ token: 'benchtoken1' }, (p) => {
    if (p.signature !== 'ok') throw new Error('a push with a bad signature');
    lastArrival = Math.max(lastArrival, p.at);
    if (++arrived === count) resolveAll();
  });
  await route(runtime, 'push-fast', `${receiver.url}/push`);
  const pushCpu = process.cpuUsage();
  const pushStart = await send('push-fast');
  await all;
  const pushCpuMs = cpuMsSince(pushCpu);
  await receiver.close();
  // The pushes' notifications went to the operator's queue too; nobody reads it in this part.
  await sqsOf(runtime).send(new PurgeQueueCommand({ QueueUrl: runtime.queueUrls.notifications }));

  const queueRate = count / ((queueEnd - queueStart) / 1000);
  const pushRate = count / ((lastArrival - pushStart) / 1000);
  printTable(
    ['notification queue', 'HTTP push'],
    [
      ['notifications', String(count), String(count)],
      [
        'first send to last arrival (s)',
        ms((queueEnd - queueStart) / 1000, 2),
        ms((lastArrival - pushStart) / 1000, 2),
      ],
      ['per second', ms(queueRate, 0), ms(pushRate, 0)],
      ['runtime process CPU per notification (ms)', ms(queueCpuMs / count, 2), ms(pushCpuMs / count, 2)],
    ],
  );
  console.log(
    `\npushes/s ${ms(pushRate, 0)} (aim >= ${AIM.pushesPerSecond}: ${met(pushRate >= AIM.pushesPerSecond)}); ` +
      `the notification queue read by an application: ${ms(queueRate, 0)}/s`,
  );
};

/** Paced notifications to a fast receiver's project and as many to another's, which hangs or not; the fast one's latencies. */
const pacedRun = async (runtime: Runtime, app: Application, rate: number, seconds: number, hanging: boolean) => {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const fast = await app.receiver({}, (p) => {
    const at = sentAt.get(p.requestId);
    if (at !== undefined) latencies.push(p.at - at);
  });
  const fastProject = `fast-${hanging ? 'h' : 'a'}`;
  await route(runtime, fastProject, `${fast.url}/fast`);
  // The other project gets as many pushes either way: only whether its receiver answers differs.
  const other = await app.receiver({ hang: hanging });
  const otherProject = `other-${hanging ? 'h' : 'a'}`;
  await route(runtime, otherProject, `${other.url}/other`);

  const total = rate * seconds;
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  const start = epochMs();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; ) {
    const due = Math.min(total, Math.floor(((epochMs() - start) / tickMs + 1) * perTick));
    for (; i < due; i++) {
      const e = notification(fastProject, i);
      sentAt.set(e.request_id, epochMs());
      sends.push(runtime.deps.notifier.send(e));
      sends.push(runtime.deps.notifier.send(notification(otherProject, i)));
    }
    await sleep(tickMs);
  }
  await Promise.all(sends);
  const deadline = epochMs() + 60_000;
  while (latencies.length < total && epochMs() < deadline) await sleep(50);
  await fast.close();
  await other.close();
  return { ...spread(latencies), arrived: latencies.length, total };
};

const partB = async (runtime: Runtime, app: Application, rate: number, seconds: number) => {
  const answering = await pacedRun(runtime, app, rate, seconds, false);
  const withHanging = await pacedRun(runtime, app, rate, seconds, true);
  printTable(
    ['other receiver fast', 'other one hangs'],
    [
      ['pushes arrived', `${answering.arrived}/${answering.total}`, `${withHanging.arrived}/${withHanging.total}`],
      ['p50 (ms)', ms(answering.p50), ms(withHanging.p50)],
      ['p99 (ms)', ms(answering.p99), ms(withHanging.p99)],
      ['max (ms)', ms(answering.max), ms(withHanging.max)],
    ],
  );
  const ratio = withHanging.p99 / answering.p99;
  const ok = ratio <= AIM.hangingP99Over && withHanging.arrived === withHanging.total;
  console.log(
    `\nfast receiver's p99 while the other hangs: ${ms(ratio, 2)}x of while it answers ` +
      `(aim <= ${AIM.hangingP99Over}x, every push arrived: ${met(ok)})`,
  );
};

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      part: { type: 'string', default: 'both' },
      count: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '50' },
      rate: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const runtime = await startRuntime(ephemeralSettings({ bootstrapProject: 'bench' }));
  const app = await startApplication(runtime);
  try {
    console.log(`push bench: ${new Date().toISOString()}, ${USAGE.replace('npm run bench -- push ', '')}`);
    if (values.part !== 'b') await partA(runtime, app, Number(values.count), Number(values.concurrency));
    if (values.part !== 'a') await partB(runtime, app, Number(values.rate), Number(values.seconds));
  } finally {
    await app.stop();
    await runtime.stop();
  }
};
