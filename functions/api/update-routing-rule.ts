import { apiHandler } from '../../shared/http/api-handler.ts';
import { updateRoutingRule } from '../../shared/use-cases/manage-routing-rules.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await updateRoutingRule(deps, req.project, req.params.rule_id, req.json()),
  }));

export const handler = lambda(build);
