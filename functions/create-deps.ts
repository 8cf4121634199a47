import { DynamoDbBatchTaskStore } from '../shared/adapters/aws/dynamodb-batch-task-store.ts';
import { DynamoDbSubtaskStore } from '../shared/adapters/aws/dynamodb-subtask-store.ts';
import { DynamoDbLeaseStore } from '../shared/adapters/aws/dynamodb-lease-store.ts';
import { DynamoDbDeviceStore } from '../shared/adapters/aws/dynamodb-device-store.ts';
import { DynamoDbMessageStore } from '../shared/adapters/aws/dynamodb-message-store.ts';
import { DynamoDbProductStore } from '../shared/adapters/aws/dynamodb-product-store.ts';
import { DynamoDbResponseStore } from '../shared/adapters/aws/dynamodb-response-store.ts';
import { DynamoDbRoutingRuleStore } from '../shared/adapters/aws/dynamodb-routing-rule-store.ts';
import { DynamoDbTokenStore } from '../shared/adapters/aws/dynamodb-token-store.ts';
import { createDynamoDb } from '../shared/adapters/aws/create-dynamodb.ts';
import { ItemReader } from '../shared/adapters/aws/coalesced-items.ts';
import type { Config } from '../shared/config.ts';
import type { DevicePublisher } from '../shared/ports/device-publisher.ts';
import type { Notifier } from '../shared/ports/notifier.ts';
import type { PushQueue } from '../shared/ports/push-queue.ts';
import type { TaskRunner } from '../shared/ports/task-runner.ts';
import type { Deps } from '../shared/ports/deps.ts';
import { localTelemetry, metricsRecorder, type Telemetry } from '../shared/telemetry.ts';
import { systemClock } from '../shared/time.ts';

/**
 * The ports besides DynamoDB, each built by an adapter that brings its own AWS SDK client. A Lambda entry
 * names only those its manifest access uses (functions/deps.ts), so its bundle holds no other client; the
 * local runtime gives them all.
 */
export interface Adapters {
  notifier?: (config: Config) => Notifier;
  pushQueue?: (config: Config) => PushQueue;
  taskRunner?: (config: Config) => TaskRunner;
  publisher?: (config: Config) => DevicePublisher;
}

/** A port the function was built without: any call says which, instead of failing somewhere in the SDK. */
const absent = <T extends object>(port: keyof Adapters): T =>
  new Proxy({} as T, {
    get: (_, method) =>
      method === 'then'
        ? undefined // not a promise
        : () =>
            Promise.reject(
              new Error(
                `this function was built without the ${port} adapter (functions/manifest.ts access, and its entry's adapters)`,
              ),
            ),
  });

/**
 * The composition root: every port built from one parsed config, over one DynamoDB client. Only the runtimes
 * (functions/deps.ts, local/runtime.ts) import it; use cases see the ports (shared/ports/deps.ts).
 */
export const createDeps = (
  config: Config,
  adapters: Adapters = {},
  telemetry: Telemetry = localTelemetry(config),
): Deps => {
  const db = createDynamoDb(config.region, config.endpoints?.dynamodb);
  const reader = new ItemReader(db, config.tableName);
  return {
    config,
    devices: new DynamoDbDeviceStore(db, config.tableName, reader),
    tokens: new DynamoDbTokenStore(db, config.tableName, reader),
    responses: new DynamoDbResponseStore(db, config.tableName, reader, systemClock.now),
    messages: new DynamoDbMessageStore(db, config.tableName),
    products: new DynamoDbProductStore(db, config.tableName, reader, systemClock.now),
    batchTasks: new DynamoDbBatchTaskStore(db, config.tableName),
    subtasks: new DynamoDbSubtaskStore(db, config.tableName),
    leases: new DynamoDbLeaseStore(db, config.tableName),
    routingRules: new DynamoDbRoutingRuleStore(db, config.tableName, reader, systemClock.now),
    taskRunner: adapters.taskRunner?.(config) ?? absent('taskRunner'),
    notifier: adapters.notifier?.(config) ?? absent('notifier'),
    pushQueue: adapters.pushQueue?.(config) ?? absent('pushQueue'),
    publisher: adapters.publisher?.(config) ?? absent('publisher'),
    clock: systemClock,
    logger: telemetry.logger,
    metrics: metricsRecorder(telemetry.metrics),
    telemetry,
  };
};
