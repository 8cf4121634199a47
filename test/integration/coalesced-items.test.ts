import { describe, expect, it } from 'vitest';
import { batchWriteAll, ItemReader } from '../../shared/adapters/aws/coalesced-items.ts';
import { createDynamoDb } from '../../shared/adapters/aws/create-dynamodb.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';

const runtime = await startTestRuntime();
const table = runtime.deps.config.tableName;

/** The table's real client (dynalite), counting the calls it sends. */
const countingClient = () => {
  const db = createDynamoDb(DEFAULT_REGION, runtime.dynamodbUrl);
  const calls: string[] = [];
  const send = db.send.bind(db);
  db.send = ((command: { constructor: { name: string } }) => {
    calls.push(command.constructor.name);
    return send(command as never);
  }) as typeof db.send;
  return { db, calls };
};

describe('coalesced items', () => {
  it('reads 150 keys asked for at once in 2 BatchGetItem calls, a key asked for twice once', async () => {
    const { db, calls } = countingClient();
    const reader = new ItemReader(db, table);
    const key = (i: number) => ({ pk: `COALESCE#${i}`, sk: 'X' });
    for (let i = 0; i < 60; i += 20)
      await batchWriteAll(
        db,
        table,
        Array.from({ length: 20 }, (_, j) => ({ PutRequest: { Item: { ...key(i + j), n: i + j } } })),
      );
    calls.length = 0;
    // 60 stored, 90 not; one key asked for twice.
    const keys = [...Array.from({ length: 150 }, (_, i) => key(i)), key(7)];
    const items = await Promise.all(keys.map((k) => reader.get(k)));
    expect(calls).toEqual(['BatchGetCommand', 'BatchGetCommand']);
    expect(items.slice(0, 60).map((item) => item?.n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(items.slice(60, 150).every((item) => item === undefined)).toBe(true);
    expect(items[150]).toMatchObject({ n: 7 });
  });

  it('reads what was written just before, strongly consistent, also one read alone', async () => {
    const { db } = countingClient();
    await batchWriteAll(db, table, [{ PutRequest: { Item: { pk: 'COALESCE#alone', sk: 'X', v: 'fresh' } } }]);
    expect(await new ItemReader(db, table).get({ pk: 'COALESCE#alone', sk: 'X' })).toMatchObject({ v: 'fresh' });
  });
});
