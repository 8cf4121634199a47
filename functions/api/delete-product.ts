import { apiHandler } from '../../shared/http/api-handler.ts';
import { deleteProduct } from '../../shared/use-cases/manage-products.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => {
    await deleteProduct(deps, req.project, req.params.product_id);
    return { status: 204 };
  });

export const handler = lambda(build);
