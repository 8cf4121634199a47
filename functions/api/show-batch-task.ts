import { apiHandler } from '../../shared/http/api-handler.ts';
import { showBatchTask } from '../../shared/use-cases/show-batch-tasks.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await showBatchTask(deps, req.project, req.params.task_id, req.query),
  }));

export const handler = lambda(build);
