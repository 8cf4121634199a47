import { apiHandler } from '../../shared/http/api-handler.ts';
import { showDevice } from '../../shared/use-cases/show-device.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({ status: 200, body: await showDevice(deps, req.project, req.params.device_id) }));

export const handler = lambda(build);
