import { apiHandler } from '../../shared/http/api-handler.ts';
import { listRoutingRules } from '../../shared/use-cases/manage-routing-rules.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 200, body: await listRoutingRules(deps, req.project, req.query) }));

export const handler = lambda(build);
