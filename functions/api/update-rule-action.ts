import { apiHandler } from '../../shared/http/api-handler.ts';
import { updateRuleAction } from '../../shared/use-cases/manage-routing-rules.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await updateRuleAction(deps, req.project, req.params.action_id, req.json()),
  }));

export const handler = lambda(build);
