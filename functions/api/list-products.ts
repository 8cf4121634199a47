import { apiHandler } from '../../shared/http/api-handler.ts';
import { listProducts } from '../../shared/use-cases/manage-products.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 200, body: await listProducts(deps, req.project, req.query) }));

export const handler = lambda(build);
