import { parseArgs } from 'node:util';
import { BATCH_WORKFLOW } from '../functions/manifest.ts';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings, type LocalSettings } from '../local/settings.ts';
import { CHUNK_SIZE, FINISHED, type TaskProgress } from '../shared/domain/batch-tasks.ts';
import type { SubtaskRecord } from '../shared/ports/batch-task-store.ts';
import type { FleetConnected, FleetCount, FleetOrder } from './fleet.ts';
import { forkTs } from './ipc.ts';
import { rawRoundTrips, type Phase } from './raw-round-trips.ts';
import {
  api,
  askOk,
  capRun,
  checkFileLimit,
  cpuProfiler,
  met,
  ms,
  otherCpu,
  printTable,
  processLoad,
  serverCalls,
  sleep,
  spread,
  epochMs,
  waitQueueIdle,
  type ProcessLoad,
} from './support.ts';

/**
 * One createCommands batch task over many online devices that answer at once (IoTDA CreateBatchTask), timed
 * from the create call until the task shows a final status, against the floor it stands on, in the same run.
 *
 * The runtime runs in this process (its CPU and memory are this process's); the devices (bench/fleet.ts,
 * answering every command with an echo) are spread over `--fleets` child processes. Registering and
 * connecting them is setup, not timed. The task's figure counts everything the platform does for it: the
 * create call and the state machine writing one sub-task per target, the state machine's Map over chunks of
 * CHUNK_SIZE targets (BATCH_WORKFLOW.maxConcurrency at once), each sub-task sent through the single-device sync
 * path, and the settle step. Its end is seen by polling GET /batchtasks/{id} (limit=1) every POLL_MS from this
 * process.
 *
 * The baseline is the raw MQTT round trip (bench/raw-round-trips.ts) of the same number of commands to the
 * same devices with as many in flight as the Map can have (maxConcurrency × CHUNK_SIZE): what moving the
 * commands and answers alone costs this machine, with no storage, no state machine and no polling.
 */

const USAGE =
  'npm run bench -- batch [--devices 10000] [--fleets 2] [--connect-concurrency 100] [--warmup 200] ' +
  '[--skip-baseline] [--cap-s 900] [--log-level SILENT] [--cpu-prof DIR]';
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

// The issue's aim: ≥ 300 sub-tasks/s (AWS IoT Jobs' fastest rollout is 1,000 devices a minute, about 17/s).
const AIM = { subtasksPerSecond: 300 };
const WHOLE_RUN_MS = 30 * 60_000;
const POLL_MS = 250;
// The Map's most sub-tasks at once.
const MAP_IN_FLIGHT = BATCH_WORKFLOW.maxConcurrency * CHUNK_SIZE;
const DOCUMENT = { service_id: 'Bench', command_name: 'ping', paras: { level: 1 } };

type Fleet = ReturnType<typeof forkTs>;
type Device = { deviceId: string; secret: string };

interface TaskRun {
  n: number;
  taskId: string;
  status: string;
  statusDesc: string;
  progress: TaskProgress;
  /** From the create call to the 201 (over 1,000 targets the state machine writes the sub-tasks after it). */
  createdMs: number;
  /** From the create call to the first poll that saw a sub-task finished, and the final status. */
  firstDoneMs: number;
  finalMs: number;
  /** Epoch ms of the create call and of the poll that saw the final status. */
  startedAt: number;
  endedAt: number;
  /** A page of failed sub-tasks, when some failed. */
  failures: unknown[];
}

/** Connects every device, each fleet process its share, all at once. */
const connectFleets = async (runtime: Runtime, fleets: Fleet[], devices: Device[], concurrency: number) => {
  const { hostname, port } = new URL(runtime.mqttUrl);
  const share = Math.ceil(devices.length / fleets.length);
  const reports = await Promise.all(
    fleets.map((fleet, f) => {
      const mine = devices.slice(f * share, (f + 1) * share);
      const order: FleetOrder = {
        type: 'connect',
        host: hostname,
        port: Number(port),
        root: runtime.topicRoot,
        devices: mine,
        concurrency: Math.ceil(concurrency / fleets.length),
        reply: 'echo',
      };
      return askOk<FleetConnected>(fleet.ask(order, 900_000));
    }),
  );
  const failed = reports.reduce((sum, r) => sum + r.failed, 0);
  if (failed)
    throw new Error(`${failed} devices failed to connect: ${reports.flatMap((r) => r.firstErrors).join('; ')}`);
};

/** The devices' CPU over a phase: zeroed before it, read after it. */
const devicesCpu = (fleets: Fleet[]) => ({
  reset: () => Promise.all(fleets.map((f) => askOk(f.ask({ type: 'reset' }, 10_000)))),
  read: async () => {
    const counts = await Promise.all(
      fleets.map((f) => askOk<FleetCount>(f.ask({ type: 'count', expect: 0, timeoutMs: 0 }, 10_000))),
    );
    return counts.reduce((sum, c) => sum + c.cpuMs, 0);
  },
});

/** Creates the task and polls it until it ends; prints each tenth of the sub-tasks as it is seen done. */
const runTask = async (
  client: ReturnType<typeof api>,
  targets: string[],
  capMs: number,
  log: boolean,
): Promise<TaskRun> => {
  const t0 = performance.now();
  const startedAt = epochMs();
  const since = () => performance.now() - t0;
  const created = await client.tasks('POST', '', {
    task_name: 'bench_batch',
    task_type: 'createCommands',
    targets,
    document: DOCUMENT,
  });
  if (created.status !== 201) throw new Error(`create batch task: ${created.status} ${JSON.stringify(created.body)}`);
  const createdMs = since();
  const taskId = created.body.task_id as string;
  if (log) console.log(`  201 after ${(createdMs / 1000).toFixed(2)} s (${targets.length} sub-tasks written)`);
  let firstDoneMs = NaN;
  let reported = 0;
  for (;;) {
    await sleep(POLL_MS);
    if (since() > capMs) throw new Error(`task ${taskId} not finished after ${capMs / 1000} s`);
    const res = await client.tasks('GET', `/${taskId}?limit=1`);
    if (res.status !== 200) throw new Error(`show batch task: ${res.status} ${JSON.stringify(res.body)}`);
    const {
      status,
      status_desc: statusDesc,
      task_progress: progress,
    } = res.body.batchtask as { status: string; status_desc: string; task_progress: TaskProgress };
    const done = progress.success + progress.fail;
    if (done && Number.isNaN(firstDoneMs)) firstDoneMs = since();
    for (; log && reported < 9 && done >= ((reported + 1) * targets.length) / 10; reported++)
      console.log(`  ${(reported + 1) * 10}% finished after ${(since() / 1000).toFixed(1)} s`);
    if (!(FINISHED as readonly string[]).includes(status)) continue;
    const failures =
      progress.fail > 0
        ? ((await client.tasks('GET', `/${taskId}?task_detail_status=Fail&limit=3`)).body?.task_details ?? [])
        : [];
    return {
      n: targets.length,
      taskId,
      status,
      statusDesc,
      progress,
      createdMs,
      firstDoneMs,
      finalMs: since(),
      startedAt,
      endedAt: epochMs(),
      failures,
    };
  }
};

/**
 * Every sub-task read back through the store once the task has ended (not timed): how long each ran, from its
 * claim to its recorded result, and how many were recorded after the task had already shown a final status
 * (the settle step counts a sub-task still running as not run; its result lands after).
 */
const subtaskTimes = async (runtime: Runtime, run: TaskRun) => {
  const subs = await runtime.deps.subtasks.subtasks(
    { project: runtime.project, taskId: run.taskId },
    { fromSeq: 0, total: run.n, max: run.n },
  );
  const ran = subs.filter((s) => s.claimedAt !== undefined && s.finishedAt !== undefined) as (SubtaskRecord & {
    claimedAt: number;
    finishedAt: number;
  })[];
  const statuses: Record<string, number> = {};
  for (const s of subs) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  // A chunk's handler lasts at least from its first claim to its last result.
  const spans = new Map<number, { from: number; to: number }>();
  for (const s of ran) {
    const c = Math.floor(s.seq / CHUNK_SIZE);
    const span = spans.get(c) ?? { from: s.claimedAt, to: s.finishedAt };
    spans.set(c, { from: Math.min(span.from, s.claimedAt), to: Math.max(span.to, s.finishedAt) });
  }
  const chunkMs = [...spans.values()].map((c) => c.to - c.from);
  return {
    chunkMs: spread(chunkMs),
    chunksOver60s: chunkMs.filter((d) => d > 60_000).length,
    statuses,
    runMs: spread(ran.map((s) => s.finishedAt - s.claimedAt)),
    firstClaimMs: Math.min(...ran.map((s) => s.claimedAt)) - run.startedAt,
    lastFinishMs: Math.max(...ran.map((s) => s.finishedAt)) - run.startedAt,
    finishedAfterEnd: ran.filter((s) => s.finishedAt > run.endedAt).length,
  };
};

/** The counters add up: every sub-task in exactly one status, none below zero. */
const consistent = (p: TaskProgress) => {
  const { total, ...rest } = p;
  return Object.values(rest).every((v) => v >= 0) && Object.values(rest).reduce((a, b) => a + b, 0) === total;
};

type Measured<T> = { result: T; load: ProcessLoad; calls: [string, number][]; devicesCpuMs: number };

/** The table of both phases, then what the task's own records say. */
const printReport = ({
  task,
  baseline,
  subs,
  inFlight,
}: {
  task: Measured<TaskRun>;
  baseline: Measured<Phase> | undefined;
  subs: Awaited<ReturnType<typeof subtaskTimes>>;
  inFlight: number;
}) => {
  const r = task.result;
  const rate = r.n / (r.finalMs / 1000);
  const rawRate = baseline ? baseline.result.n / (baseline.result.elapsedMs / 1000) : NaN;
  const cells = (of: (c: { load: ProcessLoad; devicesCpuMs: number; n: number }) => string) => [
    ...(baseline ? [of({ ...baseline, n: baseline.result.n })] : []),
    of({ ...task, n: r.n }),
  ];
  const succeeded = subs.statuses.Success ?? 0;
  printTable(
    [...(baseline ? [`raw MQTT, ${inFlight} in flight`] : []), 'createCommands task'],
    [
      ['commands / sub-tasks', ...cells((c) => `${c.n}`)],
      [
        'time (s): last answer / final status',
        ...(baseline ? [ms(baseline.result.elapsedMs / 1000, 2)] : []),
        ms(r.finalMs / 1000, 2),
      ],
      ['per second', ...(baseline ? [rawRate.toFixed(0)] : []), rate.toFixed(0)],
      [
        'answered / Success (as stored)',
        ...(baseline ? [`${baseline.result.outcomes.response ?? 0}`] : []),
        `${succeeded}`,
      ],
      ['runtime process CPU (s)', ...cells((c) => ms(c.load.cpuMs / 1000, 1))],
      ['runtime process CPU per command (ms)', ...cells((c) => ms(c.load.cpuMs / c.n, 2))],
      ['runtime event loop busy', ...cells((c) => `${(c.load.loopBusy * 100).toFixed(0)}%`)],
      ['runtime GC pauses (s)', ...cells((c) => ms(c.load.gcMs / 1000, 1))],
      ['runtime RSS before / peak (MB)', ...cells((c) => `${c.load.rssBeforeMb} / ${c.load.rssPeakMb}`)],
      ['devices processes CPU (s)', ...cells((c) => ms(c.devicesCpuMs / 1000, 1))],
    ],
  );
  console.log(
    `\ntask: 201 after ${ms(r.createdMs / 1000, 2)} s, ` +
      `first sub-task seen finished after ${ms(r.firstDoneMs / 1000, 2)} s, ` +
      `final status ${r.status} after ${ms(r.finalMs / 1000, 2)} s (polled every ${POLL_MS} ms)`,
  );
  console.log(`final status_desc: ${JSON.stringify(r.statusDesc)}`);
  console.log(
    `final counters${consistent(r.progress) ? '' : ' (INCONSISTENT: they do not add up to total)'}: ` +
      JSON.stringify(r.progress),
  );
  console.log(`sub-tasks as stored: ${JSON.stringify(subs.statuses)}`);
  console.log(
    `each sub-task from its claim to its result: p50 ${ms(subs.runMs.p50 / 1000, 2)} s, ` +
      `p99 ${ms(subs.runMs.p99 / 1000, 2)} s, max ${ms(subs.runMs.max / 1000, 2)} s; ` +
      `first claim ${ms(subs.firstClaimMs / 1000, 2)} s ` +
      `and last result ${ms(subs.lastFinishMs / 1000, 2)} s after the create call` +
      `${subs.finishedAfterEnd ? `; ${subs.finishedAfterEnd} results recorded AFTER the final status was seen` : ''}`,
  );
  // aws-local-stepfunctions gives a Task with no TimeoutSeconds 60 s (the ASL spec's default; AWS sets none),
  // then Retry runs it again.
  console.log(
    `each chunk from its first claim to its last result: p50 ${ms(subs.chunkMs.p50 / 1000, 2)} s, ` +
      `max ${ms(subs.chunkMs.max / 1000, 2)} s; ` +
      `${subs.chunksOver60s} chunks over the local Step Functions' 60 s default Task timeout`,
  );
  const perSub = (n: number) => (n / r.n).toFixed(2);
  const allCalls = task.calls.reduce((sum, [, n]) => sum + n, 0);
  const perSubByName = task.calls.map(([name, n]) => `${name} ${perSub(n)}`).join(', ');
  console.log(`HTTP requests the runtime served per sub-task: ${perSub(allCalls)} (${perSubByName})`);
  if (succeeded !== r.n) console.log(`NOT all Success; failed sub-tasks, first ones: ${JSON.stringify(r.failures)}`);
  if (baseline && baseline.result.outcomes.response !== baseline.result.n)
    console.log(`baseline: ${JSON.stringify(baseline.result.outcomes)} ${baseline.result.firstErrors.join('; ')}`);
  console.log(
    'peak resident memory of this process over its whole life (setup included): ' +
      `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
  );
  console.log(
    `\naim >= ${AIM.subtasksPerSecond} sub-tasks/s: ${met(rate >= AIM.subtasksPerSecond)} (${rate.toFixed(0)}` +
      `${baseline ? `; raw MQTT ${rawRate.toFixed(0)}/s, x${(rawRate / rate).toFixed(1)}` : ''})`,
  );
};

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      devices: { type: 'string', default: '10000' },
      fleets: { type: 'string', default: '2' },
      'connect-concurrency': { type: 'string', default: '100' },
      warmup: { type: 'string', default: '200' },
      'skip-baseline': { type: 'boolean', default: false },
      'cap-s': { type: 'string', default: '900' },
      'log-level': { type: 'string', default: 'SILENT' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const count = Number(values.devices);
  const fleetCount = Number(values.fleets);
  const connectConcurrency = Number(values['connect-concurrency']);
  const warmup = Number(values.warmup);
  const capS = Number(values['cap-s']);
  const logLevel = values['log-level']!;
  const counts = [count, fleetCount, connectConcurrency, capS];
  if (
    !counts.every((v) => Number.isInteger(v) && v >= 1) ||
    !(Number.isInteger(warmup) && warmup >= 0) ||
    count > 30_000 ||
    fleetCount > 16 ||
    !LOG_LEVELS.includes(logLevel)
  )
    throw new Error(USAGE);
  const inFlight = Math.min(count, MAP_IN_FLIGHT);
  capRun('batch', WHOLE_RUN_MS);
  console.log(
    `batch: one createCommands task over ${count} devices (echo, in ${fleetCount} processes), ` +
      `the Map at most ${BATCH_WORKFLOW.maxConcurrency} chunks of ${CHUNK_SIZE} at once; ` +
      `baseline ${values['skip-baseline'] ? 'skipped' : `${count} raw MQTT round trips, ${inFlight} in flight`}; ` +
      `ulimit -n ${checkFileLimit(count)}, node ${process.version}`,
  );

  const runtime = await startRuntime(ephemeralSettings({ logLevel: logLevel as LocalSettings['logLevel'] }));
  const fleets = Array.from({ length: fleetCount }, () => forkTs(new URL('./fleet.ts', import.meta.url)));
  try {
    const client = api(runtime);
    let t = performance.now();
    const devices = await client.addDevices(count, 'batch-');
    console.log(`registered ${count} devices in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`);
    t = performance.now();
    await connectFleets(runtime, fleets, devices, connectConcurrency);
    // A sub-task to a device whose connect is not yet recorded fails as offline.
    await waitQueueIdle(runtime, 'presence', 600_000);
    console.log(
      `connected ${count} devices, all recorded ONLINE, ` +
        `in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`,
    );
    const deviceIds = devices.map((d) => d.deviceId);

    // Warm-up: the first task loads the CDK to synthesize the state machine (about a second) and both paths
    // JIT-compile.
    const raw = await rawRoundTrips(runtime, deviceIds);
    if (warmup) {
      const few = deviceIds.slice(0, Math.min(warmup, count));
      await raw.run(few.length, Math.min(few.length, inFlight), false);
      const w = await runTask(client, few, 120_000, false);
      if (w.status !== 'Success') throw new Error(`warm-up task ended ${w.status}: ${JSON.stringify(w.failures)}`);
    }

    const cpuProfiled = cpuProfiler(values['cpu-prof']);
    const others = otherCpu();
    const cpu = devicesCpu(fleets);
    const measured = async <T>(name: string, work: () => Promise<T>): Promise<Measured<T>> => {
      await cpu.reset();
      const load = processLoad();
      const calls = serverCalls();
      const result = await others.during(() => cpuProfiled(name, work));
      return { result, load: load.end(), calls: calls.end(), devicesCpuMs: await cpu.read() };
    };
    let baseline: Measured<Phase> | undefined;
    if (!values['skip-baseline']) {
      baseline = await measured('batch-raw', () => raw.run(count, inFlight, false));
      console.log(`  raw MQTT: ${count} round trips in ${(baseline.result.elapsedMs / 1000).toFixed(2)} s`);
    }
    await raw.stop();
    console.log(`createCommands task over ${count} devices:`);
    const task = await measured('batch-task', () => runTask(client, deviceIds, capS * 1000, true));
    const r = task.result;
    console.log(`  ${r.status} after ${(r.finalMs / 1000).toFixed(2)} s`);

    const subs = await subtaskTimes(runtime, r);
    printReport({ task, baseline, subs, inFlight });
    console.log(others.report());
    const allSucceeded = subs.statuses.Success === r.n;
    process.exitCode = allSucceeded && consistent(r.progress) && !subs.finishedAfterEnd ? 0 : 1;
  } finally {
    await Promise.all(fleets.map((f) => f.stop({ type: 'close' }, 60_000)));
    await runtime.stop();
  }
  process.exit();
};
