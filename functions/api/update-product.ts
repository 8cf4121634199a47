import { apiHandler } from '../../shared/http/api-handler.ts';
import { updateProduct } from '../../shared/use-cases/manage-products.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await updateProduct(deps, req.project, req.params.product_id, req.json()),
  }));

export const handler = lambda(build);
