import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT, serveServerInProcess } from '../../local/in-process-transport.ts';
import { DEFAULT_REGION } from '../../shared/aws-names.ts';
import { clientOptions } from '../../shared/adapters/aws/client-options.ts';
import { startTestRuntime } from '../support/runtime.ts';

// The runtime's own SDK clients reach dynalite and fauxqs in-process (local/in-process-transport.ts); other
// processes (tools, benchmarks' readers) still use their ports. Both must see the same emulator.
const runtime = await startTestRuntime();

/** Options for a client of the emulator that goes over TCP, as another process's would (the SDK's own handler). */
const overTcp = (endpoint: string) => ({
  region: DEFAULT_REGION,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

describe('in-process transport', () => {
  it('is what the runtime gives clients of its emulators, and not clients of anything else', () => {
    for (const endpoint of [runtime.dynamodbUrl, runtime.sqsUrl])
      expect(clientOptions(DEFAULT_REGION, endpoint).requestHandler).toHaveProperty('handle');
    // Anything else gets the SDK's own socket handler, built from these options.
    expect(clientOptions(DEFAULT_REGION, 'http://127.0.0.1:9').requestHandler).not.toHaveProperty('handle');
    expect(clientOptions(DEFAULT_REGION, undefined).requestHandler).not.toHaveProperty('handle');
  });

  it('gives the same tables and queues in-process as over the ports', async () => {
    const inProcess = new DynamoDBClient(clientOptions(DEFAULT_REGION, runtime.dynamodbUrl));
    const tcp = new DynamoDBClient(overTcp(runtime.dynamodbUrl));
    const [a, b] = await Promise.all([inProcess.send(new ListTablesCommand({})), tcp.send(new ListTablesCommand({}))]);
    expect(a.TableNames).toEqual(b.TableNames);
    expect(a.TableNames?.length).toBeGreaterThan(0);

    const sqsIn = new SQSClient(clientOptions(DEFAULT_REGION, runtime.sqsUrl));
    const sqsTcp = new SQSClient(overTcp(runtime.sqsUrl));
    const [q1, q2] = await Promise.all([sqsIn.send(new ListQueuesCommand({})), sqsTcp.send(new ListQueuesCommand({}))]);
    expect(q1.QueueUrls?.sort()).toEqual(q2.QueueUrls?.sort());
  });

  it('answers many requests of one turn, each its own', async () => {
    const db = new DynamoDBClient(clientOptions(DEFAULT_REGION, runtime.dynamodbUrl));
    const table = runtime.deps.config.tableName;
    // Every other one names a table that is not there: each answer must come back to its own request.
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.send(new DescribeTableCommand({ TableName: i % 2 ? `missing-${i}` : table })).then(
          (out) => out.Table?.TableName,
          (e: Error) => e.message,
        ),
      ),
    );
    for (const [i, answer] of answers.entries())
      if (i % 2) expect(answer).toContain(`missing-${i}`);
      else expect(answer).toBe(table);
  });

  it("gives an emulator client's config V8's fast property layout once it has called", async () => {
    setFlagsFromString('--allow-natives-syntax');
    const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
    const fast = new DynamoDBClient(clientOptions(DEFAULT_REGION, runtime.dynamodbUrl));
    const plain = new DynamoDBClient(overTcp(runtime.dynamodbUrl));
    await Promise.all([fast.send(new ListTablesCommand({})), plain.send(new ListTablesCommand({}))]);
    expect(hasFastProperties(fast.config)).toBe(true);
    // What the SDK leaves it in otherwise (each call copies it three times).
    expect(hasFastProperties(plain.config)).toBe(false);
  });
});

describe('in-process transport, bounded', () => {
  it(`has at most ${MAX_IN_FLIGHT} requests at an emulator at once, as the SDK's sockets allowed`, async () => {
    // A stand-in emulator that answers each request a turn after its body has come, and counts those it holds.
    const server = new EventEmitter();
    let held = 0;
    let most = 0;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      most = Math.max(most, ++held);
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () =>
        setImmediate(() => {
          held--;
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ Table: { TableName: (JSON.parse(body) as { TableName: string }).TableName } }));
        }),
      );
    });
    const endpoint = 'http://bounded-emulator.test:1';
    const undo = serveServerInProcess(endpoint, server);
    try {
      const db = new DynamoDBClient(clientOptions(DEFAULT_REGION, endpoint));
      const names = Array.from({ length: MAX_IN_FLIGHT * 3 }, (_, i) => `t${i}`);
      const answers = await Promise.all(
        names.map((TableName) => db.send(new DescribeTableCommand({ TableName })).then((out) => out.Table?.TableName)),
      );
      // Every request answered, each with its own answer, and never more than the bound at the emulator.
      expect(answers).toEqual(names);
      expect(most).toBe(MAX_IN_FLIGHT);
    } finally {
      undo();
    }
  });
});
