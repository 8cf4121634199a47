import { apiHandler } from '../../shared/http/api-handler.ts';
import { deleteRuleAction } from '../../shared/use-cases/manage-routing-rules.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => {
    await deleteRuleAction(deps, req.project, req.params.action_id);
    return { status: 204 };
  });

export const handler = lambda(build);
