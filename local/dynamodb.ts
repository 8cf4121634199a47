import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { TABLE } from '../shared/table.ts';
import { listen } from './net.ts';

/** dynalite, the DynamoDB API on a local port: LevelDB under the data dir, or memory. */
export const startDynamoDb = async (host: string, port: number, dataDir: string | undefined) => {
  const path = dataDir ? join(dataDir, 'dynamodb') : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await listen(server, port, host);
  const endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
