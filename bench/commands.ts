import { parseArgs } from 'node:util';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import type { CallOrder, CallReport } from './callers.ts';
import type { FleetConnected, FleetOrder } from './fleet.ts';
import { forkTs } from './ipc.ts';
import { rawRoundTrips, type Phase } from './raw-round-trips.ts';
import { api, askOk, capRun, cpuMsSince, cpuProfiler, otherCpu, met, ms, printTable, waitQueueIdle } from './support.ts';

/**
 * Synchronous commands end to end against the floor they stand on. The runtime runs in this process with
 * its default settings; the devices (tools/simulated-device.ts, answering at once with an echo) run in a
 * child process, and the API callers (fetch, keep-alive) in another, so neither's CPU is the runtime's.
 *
 * The baseline, "raw MQTT round trip" (bench/raw-round-trips.ts), is the part of a command no implementation
 * can skip: a server-side publish through the runtime's own aedes to the same device and its answer back,
 * with the IoT rules detached (they would add the response rule's DynamoDB write to the "floor", about a
 * quarter of an end-to-end command's CPU). `--keep-rules` measures it with them attached.
 *
 * POST /commands adds, per command: the HTTP request and the API Gateway stand-in (authorizer answer
 * cached), the device read, the request item written, the publish through the iot-data HTTP endpoint, the
 * response rule's function writing the answer, and the handler polling the request item until it is there.
 */

const USAGE = `npm run bench -- commands [--devices 50] [--sequential 500] [--concurrent 5000] [--concurrency 50] [--warmup 200] [--keep-rules] [--cpu-prof DIR]`;

// The aims.
const AIM = { p50OverRawMs: 5, commandsPerSecond: 500 };
const WHOLE_RUN_MS = 10 * 60_000;

const perSecond = (p: Phase) => p.n / (p.elapsedMs / 1000);
const failures = (p: Phase) => p.n - (p.outcomes.response ?? 0);

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: {
      devices: { type: 'string', default: '50' },
      sequential: { type: 'string', default: '500' },
      concurrent: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '200' },
      'keep-rules': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const [count, sequential, concurrent, concurrency, warmup] = [values.devices, values.sequential, values.concurrent, values.concurrency, values.warmup].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (![count, sequential, concurrent, concurrency].every((v) => Number.isInteger(v) && v >= 1) || !(warmup >= 0) || count > 5_000 || concurrent > 100_000)
    throw new Error(USAGE);
  const keepRules = values['keep-rules'];
  capRun('commands', WHOLE_RUN_MS);
  console.log(
    `commands: ${count} devices (echo), ${sequential} sequential then ${concurrent} with ${concurrency} in flight, ` +
      `${warmup} warm-up, ${keepRules ? 'IoT rules attached during the baseline' : 'IoT rules detached during the baseline'}, node ${process.version}`,
  );

  const runtime = await startRuntime(ephemeralSettings());
  const fleet = forkTs(new URL('./fleet.ts', import.meta.url));
  const callers = forkTs(new URL('./callers.ts', import.meta.url));
  try {
    const client = api(runtime);
    const devices = await client.addDevices(count, 'cmd-');
    const deviceIds = devices.map((d) => d.deviceId);
    const { hostname, port } = new URL(runtime.mqttUrl);
    const connect: FleetOrder = { type: 'connect', host: hostname, port: Number(port), root: runtime.topicRoot, devices, concurrency: 50, reply: 'echo' };
    const connected = await askOk<FleetConnected>(fleet.ask(connect, 120_000));
    if (connected.failed) throw new Error(`${connected.failed} devices failed to connect: ${connected.firstErrors.join('; ')}`);
    // A command to a device whose connect is not yet recorded is refused as offline.
    await waitQueueIdle(runtime, 'presence', 60_000);
    console.log(`created and connected ${count} devices (not timed)`);

    const raw = await rawRoundTrips(runtime, deviceIds);
    const endToEnd = async (n: number, inFlight: number): Promise<Phase> => {
      const calls = Array.from({ length: n }, (_, i) => ({
        path: `/${deviceIds[i % deviceIds.length]}/commands`,
        body: { service_id: 'Bench', command_name: 'ping', paras: { i } },
      }));
      const order: CallOrder = { type: 'call', base: client.base, token: runtime.token, method: 'POST', calls, concurrency: inFlight, kind: 'command' };
      const cpu = process.cpuUsage();
      const r = await askOk<CallReport>(callers.ask(order, 300_000));
      return { n, concurrency: inFlight, latencyMs: r.latencyMs, elapsedMs: r.elapsedMs, runtimeCpuMsPer: cpuMsSince(cpu) / n, outcomes: r.outcomes, firstErrors: r.firstErrors };
    };

    if (warmup) {
      await raw.run(warmup, concurrency, keepRules);
      await endToEnd(warmup, concurrency);
    }
    const phases: [string, Phase][] = [];
    const add = async (name: string, p: Promise<Phase>) => {
      phases.push([name, await p]);
      const [, last] = phases.at(-1)!;
      console.log(`  ${name}: ${last.n} in ${(last.elapsedMs / 1000).toFixed(2)} s`);
    };
    const cpuProfiled = cpuProfiler(values['cpu-prof']);
    const others = otherCpu();
    const profiled = <T>(name: string, work: () => Promise<T>) => others.during(() => cpuProfiled(name, work));
    await add('raw MQTT, 1 in flight', profiled('commands-raw-1', () => raw.run(sequential, 1, keepRules)));
    await add('POST /commands, 1 in flight', profiled('commands-api-1', () => endToEnd(sequential, 1)));
    await add(`raw MQTT, ${concurrency} in flight`, profiled(`commands-raw-${concurrency}`, () => raw.run(concurrent, concurrency, keepRules)));
    await add(`POST /commands, ${concurrency} in flight`, profiled(`commands-api-${concurrency}`, () => endToEnd(concurrent, concurrency)));
    await raw.stop();

    printTable(
      phases.map(([name]) => name),
      [
        ['commands', ...phases.map(([, p]) => `${p.n}`)],
        ['latency p50 (ms)', ...phases.map(([, p]) => ms(p.latencyMs.p50, 2))],
        ['latency p99 (ms)', ...phases.map(([, p]) => ms(p.latencyMs.p99, 2))],
        ['latency max (ms)', ...phases.map(([, p]) => ms(p.latencyMs.max, 1))],
        ['commands / s', ...phases.map(([, p]) => perSecond(p).toFixed(0))],
        ['runtime process CPU per command (ms)', ...phases.map(([, p]) => p.runtimeCpuMsPer.toFixed(2))],
        ['not answered', ...phases.map(([, p]) => `${failures(p)}`)],
      ],
    );
    for (const [name, p] of phases) if (failures(p)) console.log(`${name}: ${JSON.stringify(p.outcomes)} ${p.firstErrors.join('; ')}`);

    const [rawSeq, e2eSeq, rawConc, e2eConc] = phases.map(([, p]) => p) as [Phase, Phase, Phase, Phase];
    const compare = (label: string, r: Phase, e: Phase) =>
      console.log(
        `${label}: end to end / raw p50 ${ms(e.latencyMs.p50, 2)} / ${ms(r.latencyMs.p50, 2)} ms ` +
          `(x${(e.latencyMs.p50 / r.latencyMs.p50).toFixed(1)}, +${ms(e.latencyMs.p50 - r.latencyMs.p50, 2)} ms); ` +
          `p99 ${ms(e.latencyMs.p99, 2)} / ${ms(r.latencyMs.p99, 2)} ms ` +
          `(x${(e.latencyMs.p99 / r.latencyMs.p99).toFixed(1)}, +${ms(e.latencyMs.p99 - r.latencyMs.p99, 2)} ms)`,
      );
    console.log('');
    compare('1 in flight', rawSeq, e2eSeq);
    compare(`${concurrency} in flight`, rawConc, e2eConc);
    const limit = rawSeq.latencyMs.p50 + AIM.p50OverRawMs;
    console.log(
      `\naim p50 end to end <= raw p50 + ${AIM.p50OverRawMs} ms (1 in flight): ${met(e2eSeq.latencyMs.p50 <= limit)} ` +
        `(${ms(e2eSeq.latencyMs.p50, 2)} vs ${ms(limit, 2)} ms); ` +
        `aim >= ${AIM.commandsPerSecond} commands/s at ${concurrency} in flight: ${met(perSecond(e2eConc) >= AIM.commandsPerSecond)} ` +
        `(${perSecond(e2eConc).toFixed(0)})`,
    );
    console.log(others.report());
    process.exitCode = phases.some(([, p]) => failures(p)) ? 1 : 0;
  } finally {
    await callers.stop({ type: 'close' }, 10_000);
    await fleet.stop({ type: 'close' }, 60_000);
    await runtime.stop();
  }
  process.exit();
};
