import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lambdaContext } from './lambda-context.ts';
import { listen } from './net.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type Definition = Record<string, unknown>;

export interface LocalStateMachine {
  arn: string;
  /**
   * The Amazon States Language, as the stack synthesizes it; asked for on the first start of a run, because
   * synthesizing loads the CDK (about a second) and most starts of the runtime never run a batch task.
   */
  definition: () => Promise<Definition>;
}

/** Every Task state of a definition (Map and Parallel included) with the function its Resource names. */
const taskFunctions = (definition: Definition, out = new Map<string, string>()): Map<string, string> => {
  for (const [name, state] of Object.entries((definition.States ?? {}) as Record<string, Record<string, unknown>>)) {
    if (state.Type === 'Task') {
      const fn = /^arn:aws:lambda:[^:]+:\d+:function:([^:]+)/.exec(String(state.Resource))?.[1];
      if (!fn) throw new Error(`local Step Functions: task ${name} does not invoke a Lambda function`);
      out.set(name, fn);
    }
    for (const inner of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])])
      if (inner) taskFunctions(inner as Definition, out);
  }
  return out;
};

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
};

/**
 * Step Functions' `StartExecution` and `DescribeExecution` at the wire (AWS JSON 1.0), so the functions' own
 * SFN client starts and checks runs locally as on AWS. aws-local-stepfunctions runs the definition, with each Task state's Lambda mapped to
 * the manifest handler of the same name (`handlerOf`, resolved late: handlers need deps, deps need this URL).
 */
export const startStepFunctionsEndpoint = async (opts: {
  host: string;
  machines: LocalStateMachine[];
  handlerOf: (functionName: string) => Handler | undefined;
  onError: (e: unknown) => void;
}) => {
  // Handler calls under way: a stop lets them finish, so no sub-task is left half-recorded.
  const inFlight = new Set<Promise<unknown>>();
  const prepare = async (m: LocalStateMachine) => {
    const definition = await m.definition();
    const overrides = Object.fromEntries(
      [...taskFunctions(definition)].map(([state, fn]) => [
        state,
        (input: unknown) => {
          const handler = opts.handlerOf(fn);
          if (!handler) throw new Error(`local Step Functions: no handler for ${fn}`);
          const call = handler(input, lambdaContext(fn, 15 * 60_000));
          inFlight.add(call);
          void call.finally(() => inFlight.delete(call)).catch(() => undefined);
          return call as never;
        },
      ]),
    );
    return { machine: new StateMachine(definition as never), overrides };
  };
  const prepared = new Map<string, ReturnType<typeof prepare>>();
  const machineFor = (arn: string) => {
    const m = opts.machines.find((x) => x.arn === arn);
    if (!m) return undefined;
    if (!prepared.has(arn)) prepared.set(arn, prepare(m));
    return prepared.get(arn)!;
  };
  // Every execution this process started, by ARN, with how it stands (DescribeExecution).
  const executions = new Map<string, { status: 'RUNNING' | 'SUCCEEDED' | 'FAILED'; startDate: number }>();
  const running = new Map<Promise<unknown>, () => void>();

  const describe = ({ executionArn }: Record<string, unknown>) => {
    const execution = executions.get(String(executionArn));
    return execution
      ? { status: 200, body: { executionArn, stateMachineArn: String(executionArn).replace(/:execution:(.*):[^:]+$/, ':stateMachine:$1'), ...execution } }
      : { status: 400, body: { __type: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${String(executionArn)}'` } };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: object) =>
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
    const fail = (type: string, message: string) => reply(400, { __type: type, message });
    const target = req.headers['x-amz-target'];
    if (target === 'AWSStepFunctions.DescribeExecution')
      return void readJson(req).then((body) => {
        const { status, body: out } = describe(body);
        reply(status, out);
      }, () => fail('InvalidArn', 'the request is not JSON'));
    if (target !== 'AWSStepFunctions.StartExecution') return fail('UnknownOperationException', 'only StartExecution and DescribeExecution are emulated');
    readJson(req).then(
      async ({ stateMachineArn, name, input }) => {
        const pending = machineFor(String(stateMachineArn));
        if (!pending) return fail('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(stateMachineArn)}'`);
        const m = await pending;
        const executionName = typeof name === 'string' && name ? name : crypto.randomUUID();
        const executionArn = `${String(stateMachineArn).replace(':stateMachine:', ':execution:')}:${executionName}`;
        if (executions.has(executionArn)) return fail('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
        const execution = { status: 'RUNNING' as const, startDate: Date.now() / 1000 };
        executions.set(executionArn, execution);
        const run = m.machine.run(JSON.parse(String(input ?? '{}')), {
          overrides: { taskResourceLocalHandlers: m.overrides },
          noThrowOnAbort: true,
        });
        const p = run.result.then(
          () => executions.set(executionArn, { ...execution, status: 'SUCCEEDED' }),
          (e: unknown) => {
            executions.set(executionArn, { ...execution, status: 'FAILED' });
            opts.onError(e);
          },
        );
        running.set(p, run.abort);
        void p.finally(() => running.delete(p));
        reply(200, { executionArn, startDate: execution.startDate });
      },
      (e: unknown) => {
        opts.onError(e);
        fail('InvalidExecutionInput', 'the request is not JSON');
      },
    ).catch((e: unknown) => {
      // The definition could not be prepared, or the run not started.
      opts.onError(e);
      if (!res.headersSent) reply(500, { __type: 'InternalFailure', message: 'the run could not be started' });
    });
  });
  await listen(server, 0, opts.host);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${opts.host}:${(server.address() as AddressInfo).port}`,
    /**
     * Takes no more runs and ends the running ones, as a crash would, but only once the handler calls under
     * way have finished (a chunk lasts about one sync wait): their tasks are left unfinished, and the next
     * start resumes them (resumeBatchTasks). Waiting for whole runs could take minutes. Idempotent.
     */
    stop: () =>
      (stopped ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        for (const abort of running.values()) abort();
        await Promise.all(inFlight);
        await Promise.all(running.keys());
      })()),
  };
};
