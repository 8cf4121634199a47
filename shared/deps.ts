import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbBatchTaskStore } from './adapters/aws/dynamodb-batch-task-store.ts';
import { DynamoDbDeviceStore } from './adapters/aws/dynamodb-device-store.ts';
import { DynamoDbMessageStore } from './adapters/aws/dynamodb-message-store.ts';
import { DynamoDbProductStore } from './adapters/aws/dynamodb-product-store.ts';
import { DynamoDbRequestStore } from './adapters/aws/dynamodb-request-store.ts';
import { DynamoDbTokenStore } from './adapters/aws/dynamodb-token-store.ts';
import { IotDataPublisher } from './adapters/aws/iot-data-publisher.ts';
import { SfnTaskRunner } from './adapters/aws/sfn-task-runner.ts';
import { ItemReader, ItemWriter } from './adapters/aws/coalesced-items.ts';
import { SqsNotifier } from './adapters/aws/sqs-notifier.ts';
import type { Config } from './config.ts';
import type { BatchTaskStore } from './ports/batch-task-store.ts';
import type { DevicePublisher } from './ports/device-publisher.ts';
import type { DeviceStore } from './ports/device-store.ts';
import type { MessageStore } from './ports/message-store.ts';
import type { Notifier } from './ports/notifier.ts';
import type { ProductStore } from './ports/product-store.ts';
import type { RequestStore } from './ports/request-store.ts';
import type { TaskRunner } from './ports/task-runner.ts';
import type { TokenStore } from './ports/token-store.ts';
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
  taskRunner: TaskRunner;
  notifier: Notifier;
  publisher: DevicePublisher;
  clock: Clock;
  logger: Logger;
}

// Emulators accept any credentials; giving fixed ones keeps the SDK from searching the machine for real ones.
const emulatorCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

// The SDK's default of 50 sockets queues requests when a batch chunk runs 100 commands at once.
const requestHandler = { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } };

export const clientOptions = (region: string, endpoint: string | undefined) =>
  endpoint ? { region, endpoint, credentials: emulatorCredentials, requestHandler } : { region, requestHandler };

export const createDynamoDb = (region: string, endpoint: string | undefined): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(region, endpoint)), {
    marshallOptions: { removeUndefinedValues: true },
  });

export const createDeps = (config: Config): Deps => {
  const db = createDynamoDb(config.region, config.endpoints?.dynamodb);
  const reader = new ItemReader(db, config.tableName);
  const sqs = new SQSClient(clientOptions(config.region, config.endpoints?.sqs));
  const logger = new Logger({
    serviceName: 'downlink',
    logLevel: config.logLevel,
  });
  return {
    config,
    devices: new DynamoDbDeviceStore(db, config.tableName, reader),
    tokens: new DynamoDbTokenStore(db, config.tableName, reader),
    requests: new DynamoDbRequestStore(db, config.tableName, reader, new ItemWriter(db, config.tableName)),
    messages: new DynamoDbMessageStore(db, config.tableName),
    products: new DynamoDbProductStore(db, config.tableName, reader, systemClock.now),
    batchTasks: new DynamoDbBatchTaskStore(db, config.tableName),
    taskRunner: new SfnTaskRunner(new SFNClient(clientOptions(config.region, config.endpoints?.stepFunctions)), config.batchStateMachineArn),
    notifier: new SqsNotifier(sqs, config.notificationQueueUrl),
    publisher: new IotDataPublisher(
      new IoTDataPlaneClient(
        config.endpoints?.iotData
          ? clientOptions(config.region, config.endpoints.iotData)
          : { region: config.region, endpoint: config.iotDataEndpoint },
      ),
    ),
    clock: systemClock,
    logger,
  };
};
