import { iotDataPublisher } from '../../shared/adapters/aws/iot-data-publisher.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { invokedHandler } from '../../shared/handler-stack.ts';
import { runBatchChunk, type ChunkRef } from '../../shared/use-cases/run-batch-chunk.ts';
import { lambda } from '../deps.ts';

/** A Map iteration of the batch state machine: the event is the chunk reference its ItemSelector builds. */
export const build = (deps: Deps) =>
  invokedHandler(
    deps,
    (event: ChunkRef) => runBatchChunk(deps, event),
    (event) => event.taskId,
  );

export const handler = lambda(build, { notifier: sqsNotifier, publisher: iotDataPublisher });
