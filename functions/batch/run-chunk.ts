import type { Deps } from '../../shared/ports/deps.ts';
import { runBatchChunk, type ChunkRef } from '../../shared/use-cases/run-batch-task.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { lambda } from '../deps.ts';

/** A Map iteration of the batch state machine: the event is the chunk reference its ItemSelector builds. */
export const build = (deps: Deps) => async (event: ChunkRef) => runBatchChunk(deps, event);

export const handler = lambda(build, { notifier: sqsNotifier, publisher: iotDataPublisher });
