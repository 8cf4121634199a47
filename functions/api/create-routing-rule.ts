import { apiHandler } from '../../shared/http/api-handler.ts';
import { createRoutingRule } from '../../shared/use-cases/manage-routing-rules.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 201, body: await createRoutingRule(deps, req.project, req.json()) }));

export const handler = lambda(build);
