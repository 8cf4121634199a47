import { apiHandler } from '../../shared/http/api-handler.ts';
import { createMessage } from '../../shared/use-cases/create-message.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  apiHandler(deps, async (req) => ({
    status: 201,
    body: await createMessage(deps, req.project, req.params.device_id, req.json()),
  }));

export const handler = lambda(build, { notifier: sqsNotifier, publisher: iotDataPublisher });
