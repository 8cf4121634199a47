import { apiHandler } from '../../shared/http/api-handler.ts';
import { createProduct } from '../../shared/use-cases/manage-products.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 201, body: await createProduct(deps, req.project, req.json()) }));

export const handler = lambda(build);
