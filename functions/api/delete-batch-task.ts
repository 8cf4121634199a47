import { apiHandler } from '../../shared/http/api-handler.ts';
import { deleteBatchTask } from '../../shared/use-cases/control-batch-task.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => {
    await deleteBatchTask(deps, req.project, req.params.task_id);
    return { status: 204 };
  });

export const handler = lambda(build);
