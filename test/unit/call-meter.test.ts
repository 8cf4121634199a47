import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { countLogBytes, install, invoked, reset, runningInvocations, snapshot } from '../../local/call-meter.ts';
import { ensureTable, startDynamoDb } from '../../local/dynamodb.ts';
import { clientOptions } from '../../shared/adapters/aws/client-options.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';

// A real DynamoDB emulator (dynalite, as the local runtime runs it) and real SDK clients.
const dynamo = await startDynamoDb('127.0.0.1', 0, undefined);
afterAll(() => dynamo.stop());
const TABLE = 'meter';
const raw = new DynamoDBClient(clientOptions(DEFAULT_REGION, dynamo.endpoint));
await ensureTable(raw, TABLE);
const db = DynamoDBDocumentClient.from(raw);
// Counting starts here; the clients above already sent, so this also shows a client equipped on a later send.
install();

const small = (pk: string) => ({ pk, sk: 'A', note: 'x' });

beforeEach(reset);

describe('call meter', () => {
  it('counts each call by service and operation, with the capacity DynamoDB reports', async () => {
    await db.send(new PutCommand({ TableName: TABLE, Item: small('p1') }));
    await raw.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'p1' }, sk: { S: 'A' } }, ConsistentRead: true }),
    );
    await db.send(
      new BatchGetCommand({
        RequestItems: {
          [TABLE]: {
            Keys: [
              { pk: 'p1', sk: 'A' },
              { pk: 'nothing', sk: 'A' },
            ],
            ConsistentRead: true,
          },
        },
      }),
    );
    const { calls } = snapshot();
    expect(calls.map((c) => `${c.service} ${c.operation}`)).toEqual([
      'DynamoDB PutItem',
      'DynamoDB GetItem',
      'DynamoDB BatchGetItem',
    ]);
    // A small item: 1 WCU to write, 1 RCU for a strongly consistent read; a batch reads each key it asks for.
    expect(calls.map((c) => [c.rcu, c.wcu])).toEqual([
      [0, 1],
      [1, 0],
      [2, 0],
    ]);
    // Outside any invocation: no function, no phase.
    expect(calls.every((c) => c.fn === undefined && c.phase === undefined)).toBe(true);
  });

  it('counts a failed conditional write, named by its error', async () => {
    const write = () =>
      db.send(new PutCommand({ TableName: TABLE, Item: small('p2'), ConditionExpression: 'attribute_not_exists(pk)' }));
    await write();
    await expect(write()).rejects.toThrow();
    const { calls } = snapshot();
    expect(calls.map((c) => [c.operation, c.error ?? 'ok'])).toEqual([
      ['PutItem', 'ok'],
      ['PutItem', 'ConditionalCheckFailedException'],
    ]);
    expect(calls[0]!.wcu).toBe(1);
  });

  it('leaves the caller’s input as it was', async () => {
    const input = {
      TableName: TABLE,
      Key: { pk: 'p1', sk: 'A' },
      UpdateExpression: 'SET note = :n',
      ExpressionAttributeValues: { ':n': 'y' },
    };
    await db.send(new UpdateCommand(input));
    expect(input).not.toHaveProperty('ReturnConsumedCapacity');
    expect(snapshot().calls).toHaveLength(1);
  });

  it('attributes calls to the invocation that made them, and tells calls after it returned apart', async () => {
    let leftOver: Promise<unknown> | undefined;
    const handler = invoked('reader', 'http', async (key: string) => {
      await db.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: key, sk: 'A' }] } } }));
      // Work the handler does not wait for: it runs after the answer.
      leftOver = new Promise((r) => setTimeout(r, 5)).then(() =>
        db.send(new PutCommand({ TableName: TABLE, Item: small(`${key}-later`) })),
      );
      return 'answer';
    });
    expect(await handler('p1', {})).toBe('answer');
    await leftOver;
    const { calls, invocations } = snapshot();
    expect(invocations).toEqual([expect.objectContaining({ fn: 'reader', trigger: 'http', id: calls[0]!.invocation })]);
    expect(calls.map((c) => [c.fn, c.operation, c.phase])).toEqual([
      ['reader', 'BatchGetItem', 'during'],
      ['reader', 'PutItem', 'after-return'],
    ]);
    // An eventually consistent read of one small item is half a unit.
    expect(calls[0]!.rcu).toBe(0.5);
  });

  it('counts each call once on a client and its document client (one shared stack)', async () => {
    await raw.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'p1' }, sk: { S: 'A' } } }));
    await db.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: 'p1', sk: 'A' }] } } }));
    expect(snapshot().calls.map((c) => c.operation)).toEqual(['GetItem', 'BatchGetItem']);
  });

  it('keeps an invocation’s log bytes, and knows while one runs', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const handler = invoked('waiter', 'http', async () => {
      await db.send(new PutCommand({ TableName: TABLE, Item: small('w') }));
      countLogBytes(42);
      await held;
      return 'done';
    });
    const running = handler(undefined, {});
    expect(runningInvocations()).toBe(1);
    countLogBytes(1000); // outside any invocation: not counted
    release();
    await running;
    expect(runningInvocations()).toBe(0);
    expect(snapshot().invocations[0]).toMatchObject({ fn: 'waiter', logBytes: 42 });
  });
});
