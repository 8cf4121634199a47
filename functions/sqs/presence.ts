import type { Deps } from '../../shared/ports/deps.ts';
import { forEachRecord } from '../../shared/sqs-batch.ts';
import { presenceOrderKey, recordPresence } from '../../shared/use-cases/record-presence.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => forEachRecord(deps, (event) => recordPresence(deps, event), presenceOrderKey);

export const handler = lambda(build, { notifier: sqsNotifier, publisher: iotDataPublisher });
