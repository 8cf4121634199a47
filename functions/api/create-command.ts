import { apiHandler } from '../../shared/http/api-handler.ts';
import { createCommand } from '../../shared/use-cases/create-command.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 200,
    body: await createCommand(deps, req.project, req.params.device_id, req.json()),
  }));

export const handler = lambda(build, { publisher: iotDataPublisher });
