// `npm run bench -- <name> [options]`: one entry point for every benchmark; with no name, the list.
const BENCHMARKS: Record<string, { about: string; load: () => Promise<{ main(args: string[]): Promise<void> }> }> = {
  connections: {
    about: '2,000 devices connect and subscribe to the local runtime: connects/s, resident memory, presence settle time',
    load: () => import('./connections.ts'),
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
