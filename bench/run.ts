// `npm run bench -- <name> [options]`: one entry point for every benchmark; with no name, the list.
const BENCHMARKS: Record<string, { about: string; load: () => Promise<{ main(args: string[]): Promise<void> }> }> = {
  connections: {
    about:
      '2,000 devices connect and subscribe to the local runtime: connects/s, resident memory, presence settle time',
    load: () => import('./connections.ts'),
  },
  commands: {
    about:
      'POST /commands to 50 echoing devices, 1 and 50 in flight: ' +
      'p50/p99 and commands/s against the raw MQTT round trip',
    load: () => import('./commands.ts'),
  },
  messages: {
    about:
      'create-message to 100 online devices (messages/s), ' +
      'and the flush of 20,000 pending messages to 1,000 reconnecting devices',
    load: () => import('./messages.ts'),
  },
  memory: {
    about: '12,000 good and bad API calls: resident memory and V8 heap at start, after the load and after full GCs',
    load: () => import('./memory.ts'),
  },
  batch: {
    about:
      'one createCommands task over 10,000 echoing devices: ' +
      'time to a final status, sub-tasks/s, peak RSS, against raw MQTT round trips',
    load: () => import('./batch.ts'),
  },
  cost: {
    about:
      'AWS calls, DynamoDB capacity, Lambda, IoT and SQS use of each operation, ' +
      'priced per million at us-east-1 list prices; modelled AWS latency of sync requests',
    load: () => import('./cost.ts'),
  },
  'batch-create': {
    about:
      'CreateBatchTask with 30,000 targets: ' +
      'the create call until its 201, and until the task is Waitting (sub-tasks written)',
    load: () => import('./batch-create.ts'),
  },
  fuzz: {
    about:
      'seeded malformed REST requests (--seed, --count 10000) over every route: ' +
      'counts by status, every 5xx; exits 1 on any 5xx',
    load: () => import('./fuzz.ts'),
  },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  if (name) console.error(`unknown benchmark: ${name}\n`);
  console.log('npm run bench -- <name> [options]\n');
  for (const [n, b] of Object.entries(BENCHMARKS)) console.log(`  ${n.padEnd(14)} ${b.about}`);
  process.exit(name ? 2 : 0);
}
await (await bench.load()).main(args);
