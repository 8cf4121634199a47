import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  paginateScan,
  UpdateItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { applied } from '../shared/adapters/aws/conditional.ts';
import { newListId } from '../shared/ids.ts';
import { indexKeys, keys, TABLE } from '../shared/table.ts';

/**
 * dynalite, the DynamoDB API on a local port: LevelDB under the data dir, or memory. It runs on a worker
 * thread: the handlers spend their CPU on SDK calls to it, and with both on one thread each waits for the other.
 */
export const startDynamoDb = async (host: string, port: number, dataDir: string | undefined) => {
  const path = dataDir ? join(dataDir, 'dynamodb') : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const worker = new Worker(new URL('./dynamodb-thread.mjs', import.meta.url), { workerData: { host, port, path } });
  type Control = { port?: number; error?: string; stopped?: boolean; collected?: boolean; answers?: unknown };
  // The thread's next control message; the answers to in-process requests are not for this.
  const next = () =>
    new Promise<Control>((resolve, reject) => {
      const answered = (m: Control) => {
        if (m.answers !== undefined) return;
        worker.off('message', answered);
        worker.off('error', failed);
        resolve(m);
      };
      const failed = (e: Error) => {
        worker.off('message', answered);
        reject(e);
      };
      worker.on('message', answered);
      worker.once('error', failed);
    });
  const started = await next();
  if (started.error !== undefined || started.port === undefined) {
    await worker.terminate();
    throw new Error(`dynalite did not start: ${started.error ?? 'no port'}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${started.port}`,
    /** The thread, for in-process requests (local/in-process-transport.ts). */
    worker,
    /**
     * The thread's V8 heap in use and memory outside it (Buffers: dynalite's stored values), after a full
     * collection; process.memoryUsage() leaves them out (bench/memory.ts).
     */
    memory: async () => {
      const collected = next();
      worker.postMessage('gc');
      await collected;
      const s = await worker.getHeapStatistics();
      return { heapUsed: s.used_heap_size, external: (s as { external_memory?: number }).external_memory ?? 0 };
    },
    // Closing lets LevelDB finish its writes before the thread ends.
    stop: () =>
      (stopped ??= (async () => {
        const closed = next();
        worker.postMessage('stop');
        await closed;
        await worker.terminate();
      })()),
  };
};

/** Creates the table from its one definition unless it is already there (data kept across restarts). */
const attr = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });

const indexDefinition = (i: (typeof TABLE.indexes)[number]) => ({
  IndexName: i.name,
  KeySchema: [
    { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
});

/** Creates the table from its one definition, or adds the indexes a data dir from an older version lacks. */
export const ensureTable = async (client: DynamoDBClient, tableName: string) => {
  let existing: string[] | undefined;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName!);
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  if (existing) {
    for (const index of TABLE.indexes.filter((i) => !existing.includes(i.name)))
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [attr(index.partitionKey), attr(index.sortKey)],
          GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
        }),
      );
    await listOlderDevices(client, tableName);
    return;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        attr(TABLE.partitionKey),
        attr(TABLE.sortKey),
        ...TABLE.indexes.flatMap((i) => [attr(i.partitionKey), attr(i.sortKey)]),
      ],
      GlobalSecondaryIndexes: TABLE.indexes.map(indexDefinition),
    }),
  );
};

/**
 * Devices a data dir kept from before ListDevices existed have no place in the list: they get one, in the
 * order they were added. Conditional, so a device that has one keeps it.
 */
const listOlderDevices = async (client: DynamoDBClient, tableName: string) => {
  const pages = paginateScan(
    { client },
    {
      TableName: tableName,
      FilterExpression: 'sk = :device AND attribute_not_exists(#list)',
      ExpressionAttributeNames: { '#list': indexKeys.deviceList.pk },
      ExpressionAttributeValues: { ':device': { S: 'DEVICE' } },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const listId = newListId(Number(item.createdAt?.N ?? 0));
      await applied(
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: item.pk!, sk: item.sk! },
            UpdateExpression: 'SET #list = :list, #order = :id, listId = :id',
            ConditionExpression: 'attribute_not_exists(#list)',
            ExpressionAttributeNames: { '#list': indexKeys.deviceList.pk, '#order': indexKeys.deviceList.sk },
            ExpressionAttributeValues: { ':list': { S: keys.deviceList(item.project?.S ?? '') }, ':id': { S: listId } },
          }),
        ),
      );
    }
  }
};
