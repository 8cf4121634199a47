import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbBatchTaskStore } from './adapters/aws/dynamodb-batch-task-store.ts';
import { DynamoDbSubtaskStore } from './adapters/aws/dynamodb-subtask-store.ts';
import { DynamoDbLeaseStore } from './adapters/aws/dynamodb-lease-store.ts';
import { DynamoDbDeviceStore } from './adapters/aws/dynamodb-device-store.ts';
import { DynamoDbMessageStore } from './adapters/aws/dynamodb-message-store.ts';
import { DynamoDbProductStore } from './adapters/aws/dynamodb-product-store.ts';
import { DynamoDbRequestStore } from './adapters/aws/dynamodb-request-store.ts';
import { DynamoDbTokenStore } from './adapters/aws/dynamodb-token-store.ts';
import { clientOptions } from './adapters/aws/client-options.ts';
import { ItemReader, ItemWriter } from './adapters/aws/coalesced-items.ts';
import type { Config } from './config.ts';
import type { BatchTaskStore } from './ports/batch-task-store.ts';
import type { DevicePublisher } from './ports/device-publisher.ts';
import type { DeviceStore } from './ports/device-store.ts';
import type { LeaseStore } from './ports/lease-store.ts';
import type { MetricsRecorder } from './ports/metrics.ts';
import type { MessageStore } from './ports/message-store.ts';
import type { Notifier } from './ports/notifier.ts';
import type { ProductStore } from './ports/product-store.ts';
import type { RequestStore } from './ports/request-store.ts';
import type { SubtaskStore } from './ports/subtask-store.ts';
import type { TaskRunner } from './ports/task-runner.ts';
import type { TokenStore } from './ports/token-store.ts';
import { lambdaTelemetry, metricsRecorder, type Telemetry } from './telemetry.ts';
import { systemClock, type Clock } from './time.ts';

/** Everything a use case may touch; built once per runtime (functions/deps.ts, local/runtime.ts). */
export interface Deps {
  config: Config;
  devices: DeviceStore;
  tokens: TokenStore;
  requests: RequestStore;
  messages: MessageStore;
  products: ProductStore;
  batchTasks: BatchTaskStore;
  subtasks: SubtaskStore;
  leases: LeaseStore;
  taskRunner: TaskRunner;
  notifier: Notifier;
  publisher: DevicePublisher;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRecorder;
  /** The Powertools instances the handler stacks attach (handler-stack.ts); use cases log and count through the above. */
  telemetry: Telemetry;
}

export { clientOptions };

export const createDynamoDb = (region: string, endpoint: string | undefined): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(region, endpoint)), {
    marshallOptions: { removeUndefinedValues: true },
  });

/**
 * The ports besides DynamoDB, each built by an adapter that brings its own AWS SDK client. A Lambda entry
 * names only those its manifest access uses (functions/deps.ts), so its bundle holds no other client; the
 * local runtime gives them all.
 */
export interface Adapters {
  notifier?: (config: Config) => Notifier;
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

export const createDeps = (
  config: Config,
  adapters: Adapters = {},
  telemetry: Telemetry = lambdaTelemetry(config),
): Deps => {
  const db = createDynamoDb(config.region, config.endpoints?.dynamodb);
  const reader = new ItemReader(db, config.tableName);
  return {
    config,
    devices: new DynamoDbDeviceStore(db, config.tableName, reader),
    tokens: new DynamoDbTokenStore(db, config.tableName, reader),
    requests: new DynamoDbRequestStore(db, config.tableName, reader, new ItemWriter(db, config.tableName)),
    messages: new DynamoDbMessageStore(db, config.tableName),
    products: new DynamoDbProductStore(db, config.tableName, reader, systemClock.now),
    batchTasks: new DynamoDbBatchTaskStore(db, config.tableName),
    subtasks: new DynamoDbSubtaskStore(db, config.tableName),
    leases: new DynamoDbLeaseStore(db, config.tableName),
    taskRunner: adapters.taskRunner?.(config) ?? absent('taskRunner'),
    notifier: adapters.notifier?.(config) ?? absent('notifier'),
    publisher: adapters.publisher?.(config) ?? absent('publisher'),
    clock: systemClock,
    logger: telemetry.logger,
    metrics: metricsRecorder(telemetry.metrics),
    telemetry,
  };
};
