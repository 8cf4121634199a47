import { parseArgs } from 'node:util';
import { startRuntime } from '../local/runtime.ts';
import { ephemeralSettings } from '../local/settings.ts';
import { MAX_TARGETS } from '../shared/domain/batch-tasks.ts';
import { compactUtc } from '../shared/time.ts';
import { api, ms, printTable, sleep } from './support.ts';

/**
 * CreateBatchTask at its limit: a task of 30,000 targets (unknown device ids, so nothing is sent), scheduled a
 * day ahead so no run competes with the next create. Timed: the create call until its 201, and until the
 * task shows Waitting (its sub-tasks all written, whether by the call or by the state machine's first step).
 */

const USAGE = 'npm run bench -- batch-create [--targets 30000] [--runs 3]';

export const main = async (args: string[]) => {
  const { values } = parseArgs({
    args,
    options: { targets: { type: 'string', default: String(MAX_TARGETS) }, runs: { type: 'string', default: '3' } },
  });
  const count = Number(values.targets);
  const runs = Number(values.runs);
  if (!(count > 0 && runs > 0)) throw new Error(USAGE);
  const runtime = await startRuntime(ephemeralSettings());
  const client = api(runtime);
  const rows: [string, ...string[]][] = [];
  try {
    for (let n = 1; n <= runs; n++) {
      const targets = Array.from({ length: count }, (_, i) => `bench-create-${n}-${String(i).padStart(5, '0')}`);
      const body = {
        task_name: 'limit',
        task_type: 'createCommands',
        targets,
        document: { paras: { x: 1 } },
        task_policy: { schedule_time: compactUtc(Date.now() + 86_400_000) },
      };
      const started = performance.now();
      const res = await client.tasks('POST', '', body);
      const createdMs = performance.now() - started;
      if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
      const taskId = res.body.task_id as string;
      let status = res.body.status as string;
      while (status === 'Initializing') {
        await sleep(100);
        status = (await client.tasks('GET', `/${taskId}?limit=1`)).body.batchtask.status as string;
      }
      const preparedMs = performance.now() - started;
      rows.push([`run ${n}`, ms(createdMs, 0), res.body.status as string, ms(preparedMs, 0), status]);
    }
  } finally {
    await runtime.stop();
  }
  console.log(`CreateBatchTask with ${count} targets, local runtime:`);
  printTable(['create call ms', 'answered', 'to Waitting ms', 'then'], rows);
};
