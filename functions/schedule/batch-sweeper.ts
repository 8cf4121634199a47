import type { Deps } from '../../shared/deps.ts';
import { purgeDeletedBatchTasks } from '../../shared/use-cases/control-batch-task.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => async () => ({ purged: await purgeDeletedBatchTasks(deps) });

export const handler = lambda(build);
