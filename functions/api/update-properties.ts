import { apiHandler } from '../../shared/http/api-handler.ts';
import { updateProperties } from '../../shared/use-cases/update-properties.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await updateProperties(deps, req.project, req.params.device_id, req.json()),
  }));

export const handler = lambda(build, { publisher: iotDataPublisher });
