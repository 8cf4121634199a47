import { apiHandler } from '../../shared/http/api-handler.ts';
import { showProduct } from '../../shared/use-cases/manage-products.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 200, body: await showProduct(deps, req.project, req.params.product_id) }));

export const handler = lambda(build);
