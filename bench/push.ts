import { DeleteMessageBatchCommand, PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { type Runtime, startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { newUuid } from '../shared/ids.ts';
import { deviceHeader, envelope, type NotificationEnvelope } from '../shared/domain/notifications.ts';
import { createApiToken } from '../shared/use-cases/manage-api-tokens.ts';
import { startPushReceiver } from '../tools/push-receiver.ts';
import { mapLimit } from '../shared/map-limit.ts';
import { epochMs, met, ms, printTable, sleep, spread, sqsOf, waitQueueIdle } from './support.ts';

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
 * The runtime, the receivers and the sender share this process.
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

/** Reads the notification queue until `count` have come, as an application would; resolves at the last. */
const readQueue = async (runtime: Runtime, count: number) => {
  const sqs = sqsOf(runtime);
  const url = runtime.queueUrls.notifications;
  let got = 0;
  let last = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (got < count) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (!Messages.length) continue;
        got += Messages.length;
        last = epochMs();
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }),
  );
  sqs.destroy();
  return last;
};

const partA = async (runtime: Runtime, count: number, concurrency: number) => {
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
  const reading = readQueue(runtime, count);
  const queueStart = await send('queue-only');
  const queueEnd = await reading;
  await waitQueueIdle(runtime, 'push-route', 120_000);

  let arrived = 0;
  let lastArrival = 0;
  let resolveAll: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const receiver = await startPushReceiver({
    token: 'benchtoken1',
    onPush: (p) => {
      if (p.signature !== 'ok') throw new Error('a push with a bad signature');
      lastArrival = epochMs();
      if (++arrived === count) resolveAll();
    },
  });
  await route(runtime, 'push-fast', `${receiver.url}/push`);
  const pushStart = await send('push-fast');
  await all;
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
    ],
  );
  console.log(
    `\npushes/s ${ms(pushRate, 0)} (aim >= ${AIM.pushesPerSecond}: ${met(pushRate >= AIM.pushesPerSecond)}); ` +
      `the notification queue read by an application: ${ms(queueRate, 0)}/s`,
  );
};

/** Paced notifications to a fast receiver's project and as many to another's, which hangs or not; the fast one's latencies. */
const pacedRun = async (runtime: Runtime, rate: number, seconds: number, hanging: boolean) => {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const fast = await startPushReceiver({
    onPush: (p) => {
      const at = sentAt.get(p.envelope.request_id);
      if (at !== undefined) latencies.push(epochMs() - at);
    },
  });
  const fastProject = `fast-${hanging ? 'h' : 'a'}`;
  await route(runtime, fastProject, `${fast.url}/fast`);
  // The other project gets as many pushes either way: only whether its receiver answers differs.
  const other = await startPushReceiver({ hang: hanging });
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

const partB = async (runtime: Runtime, rate: number, seconds: number) => {
  const answering = await pacedRun(runtime, rate, seconds, false);
  const withHanging = await pacedRun(runtime, rate, seconds, true);
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
  try {
    console.log(`push bench: ${new Date().toISOString()}, ${USAGE.replace('npm run bench -- push ', '')}`);
    if (values.part !== 'b') await partA(runtime, Number(values.count), Number(values.concurrency));
    if (values.part !== 'a') await partB(runtime, Number(values.rate), Number(values.seconds));
  } finally {
    await runtime.stop();
  }
};
