import { apiHandler } from '../../shared/http/api-handler.ts';
import { deleteDevice } from '../../shared/use-cases/delete-device.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => {
    await deleteDevice(deps, req.project, req.params.device_id);
    return { status: 204 };
  });

export const handler = lambda(build, { publisher: iotDataPublisher });
