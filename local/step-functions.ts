import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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

/** What a Task state calls: a Lambda function by name, or Step Functions' own StartExecution (a run's next pass). */
type TaskTarget = { lambda: string } | { startExecution: true };

const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** Every Task state of a definition (Map and Parallel included) with what its Resource names. */
const taskTargets = (definition: Definition, out = new Map<string, TaskTarget>()): Map<string, TaskTarget> => {
  for (const [name, state] of Object.entries((definition.States ?? {}) as Record<string, Record<string, unknown>>)) {
    if (state.Type === 'Task') {
      const fn = /^arn:aws:lambda:[^:]+:\d+:function:([^:]+)/.exec(String(state.Resource))?.[1];
      if (fn) out.set(name, { lambda: fn });
      else if (state.Resource === START_EXECUTION) out.set(name, { startExecution: true });
      else
        throw new Error(`local Step Functions: task ${name} neither invokes a Lambda function nor starts an execution`);
    }
    for (const inner of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])])
      if (inner) taskTargets(inner as Definition, out);
  }
  return out;
};

/**
 * How many events AWS would record for one event aws-local-stepfunctions reports, counted high where they
 * differ: a Task state entered is TaskStateEntered plus scheduled, started and its result (plus a submitted
 * event for StartExecution, so 5 for all); each retry is scheduled, started and a result again; a Map adds
 * MapStateStarted on entry and MapStateSucceeded on exit. A Standard execution holds 25 000.
 */
const awsEvents = (e: { type: string; state?: { type: string } }): number => {
  switch (e.type) {
    case 'StateEntered':
      return e.state?.type === 'Task' ? 5 : e.state?.type === 'Map' ? 2 : 1;
    case 'StateExited':
      return e.state?.type === 'Map' ? 2 : 1;
    case 'StateRetried':
      return 3;
    case 'StateFailed':
    case 'StateCaught':
      return 0;
    default:
      return 1;
  }
};

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/**
 * The executions of earlier processes on a data dir, by ARN, as DescribeExecution tells them: on AWS an execution
 * outlives the caller that started it, and here it ends with the process, so one that was running then is ABORTED.
 * The batch sweeper reads this to resume those runs, on both runtimes alike. One line per start and per end,
 * compacted at each start of the runtime.
 */
const executionJournal = (dataDir: string | undefined) => {
  if (!dataDir) return { earlier: new Map<string, ExecutionStatus>(), record: () => undefined };
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'step-functions-executions.jsonl');
  const earlier = new Map<string, ExecutionStatus>();
  if (existsSync(file))
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const { arn, status } = JSON.parse(line) as { arn: string; status: ExecutionStatus };
      earlier.set(arn, status === 'RUNNING' ? 'ABORTED' : status);
    }
  const lines = [...earlier].map(([arn, status]) => `${JSON.stringify({ arn, status })}\n`);
  writeFileSync(file, lines.join(''));
  return {
    earlier,
    // Synchronous, so a start is on disk before the run does anything a crash could leave half-done.
    record: (arn: string, status: ExecutionStatus) => appendFileSync(file, `${JSON.stringify({ arn, status })}\n`),
  };
};

/** One execution as the local endpoint keeps it: DescribeExecution's fields, and its history's size so far. */
export interface LocalExecution {
  name: string;
  status: ExecutionStatus;
  startDate: number;
  /** The events AWS would have recorded so far (`awsEvents`, counted high). */
  events: number;
}

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
};

/**
 * Step Functions' `StartExecution` and `DescribeExecution` at the wire (AWS JSON 1.0), so the functions' own
 * SFN client starts and checks runs locally as on AWS. aws-local-stepfunctions runs the definition, with each
 * Task state's Lambda mapped to the manifest handler of the same name (`handlerOf`, resolved late: handlers need
 * deps, deps need this URL), and each StartExecution state (a run's next pass) to this endpoint's own start, with
 * the context object (`$$.StateMachine.Id`) AWS gives. Each execution's history is counted as AWS would record it
 * (`executions`).
 */
export const startStepFunctionsEndpoint = async (opts: {
  host: string;
  machines: LocalStateMachine[];
  handlerOf: (functionName: string) => Handler | undefined;
  onError: (e: unknown) => void;
  /** Where executions are journaled, so a later process can tell their state; none: in memory only. */
  dataDir?: string | undefined;
}) => {
  const journal = executionJournal(opts.dataDir);
  // Handler calls under way: a stop lets them finish, so no sub-task is left half-recorded.
  const inFlight = new Set<Promise<unknown>>();
  type Prepared = { machine: StateMachine; overrides: Record<string, (input: unknown) => never> };
  type Started = { executionArn: string; startDate: number } | { error: { type: string; message: string } };
  const prepare = async (m: LocalStateMachine): Promise<Prepared> => {
    const definition = await m.definition();
    const overrides = Object.fromEntries(
      [...taskTargets(definition)].map(([state, target]) => [
        state,
        (input: unknown) => {
          if ('startExecution' in target) {
            const { StateMachineArn, Name, Input } = input as { StateMachineArn: string; Name: string; Input: unknown };
            const started: Started = startExecution(StateMachineArn, Name, JSON.stringify(Input));
            if ('error' in started)
              throw Object.assign(new Error(started.error.message), {
                name: `StepFunctions.${started.error.type}Exception`,
              });
            return started as never;
          }
          const handler = opts.handlerOf(target.lambda);
          if (!handler) throw new Error(`local Step Functions: no handler for ${target.lambda}`);
          const call = handler(input, lambdaContext(target.lambda, 15 * 60_000));
          inFlight.add(call);
          void call.finally(() => inFlight.delete(call)).catch(() => undefined);
          return call as never;
        },
      ]),
    );
    return { machine: new StateMachine(definition as never), overrides };
  };
  const prepared = new Map<string, Prepared>();
  // Every execution this process started, by ARN, with how it stands (DescribeExecution).
  const executions = new Map<string, LocalExecution>();
  const running = new Map<Promise<unknown>, () => void>();
  let closed = false;

  /** StartExecution, from a call or from a run's own StartExecution state; refused once stopping. */
  const startExecution = (stateMachineArn: string, name: string | undefined, input: string | undefined): Started => {
    const m = prepared.get(stateMachineArn);
    if (!m)
      return {
        error: { type: 'StateMachineDoesNotExist', message: `State Machine Does Not Exist: '${stateMachineArn}'` },
      };
    const executionName = name || crypto.randomUUID();
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
    if (executions.has(executionArn) || journal.earlier.has(executionArn))
      return { error: { type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${executionArn}'` } };
    if (closed) return { error: { type: 'ServiceUnavailable', message: 'the local runtime is stopping' } };
    const execution: LocalExecution = {
      name: executionName,
      status: 'RUNNING',
      startDate: Date.now() / 1000,
      events: 0,
    };
    executions.set(executionArn, execution);
    journal.record(executionArn, 'RUNNING');
    const run = m.machine.run(JSON.parse(input ?? '{}'), {
      overrides: { taskResourceLocalHandlers: m.overrides },
      noThrowOnAbort: true,
      context: {
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').at(-1)! },
        Execution: {
          Id: executionArn,
          Name: executionName,
          Input: JSON.parse(input ?? '{}'),
          StartTime: new Date().toISOString(),
        },
      } as never,
    });
    const counted = (async () => {
      for await (const event of run.eventLogs) execution.events += awsEvents(event as never);
    })();
    const p = run.result
      .then(
        () => void (execution.status = closed ? 'ABORTED' : 'SUCCEEDED'),
        (e: unknown) => {
          execution.status = 'FAILED';
          opts.onError(e);
        },
      )
      .then(() => journal.record(executionArn, execution.status));
    void counted.catch(() => undefined);
    running.set(p, run.abort);
    void p.finally(() => running.delete(p));
    return { executionArn, startDate: execution.startDate };
  };

  // Definitions are synthesized on the first start of a run (see LocalStateMachine.definition).
  const preparing = new Map<string, Promise<void>>();
  const ready = (arn: string) => {
    const m = opts.machines.find((x) => x.arn === arn);
    if (!m) return Promise.resolve();
    if (!preparing.has(arn))
      preparing.set(
        arn,
        prepare(m).then((p) => void prepared.set(arn, p)),
      );
    return preparing.get(arn)!;
  };

  const describe = ({ executionArn }: Record<string, unknown>) => {
    const arn = String(executionArn);
    const earlier = journal.earlier.get(arn);
    const execution =
      executions.get(arn) ?? (earlier && { name: arn.split(':').at(-1)!, status: earlier, startDate: 0, events: 0 });
    return execution
      ? {
          status: 200,
          body: {
            executionArn,
            stateMachineArn: String(executionArn).replace(/:execution:(.*):[^:]+$/, ':stateMachine:$1'),
            name: execution.name,
            status: execution.status,
            startDate: execution.startDate,
          },
        }
      : {
          status: 400,
          body: { __type: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${String(executionArn)}'` },
        };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: object) =>
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
    const fail = (type: string, message: string) => reply(400, { __type: type, message });
    const target = req.headers['x-amz-target'];
    if (target === 'AWSStepFunctions.DescribeExecution')
      return void readJson(req).then(
        (body) => {
          const { status, body: out } = describe(body);
          reply(status, out);
        },
        () => fail('InvalidArn', 'the request is not JSON'),
      );
    if (target !== 'AWSStepFunctions.StartExecution')
      return fail('UnknownOperationException', 'only StartExecution and DescribeExecution are emulated');
    readJson(req)
      .then(
        async ({ stateMachineArn, name, input }) => {
          await ready(String(stateMachineArn));
          const started = startExecution(
            String(stateMachineArn),
            typeof name === 'string' ? name : undefined,
            input === undefined ? undefined : String(input),
          );
          if ('error' in started) return fail(started.error.type, started.error.message);
          reply(200, started);
        },
        (e: unknown) => {
          opts.onError(e);
          fail('InvalidExecutionInput', 'the request is not JSON');
        },
      )
      .catch((e: unknown) => {
        // The definition could not be prepared, or the run not started.
        opts.onError(e);
        if (!res.headersSent) reply(500, { __type: 'InternalFailure', message: 'the run could not be started' });
      });
  });
  await listen(server, 0, opts.host);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${opts.host}:${(server.address() as AddressInfo).port}`,
    server,
    /** Every execution started since this endpoint started, oldest first (tests count their history events). */
    executions: (): LocalExecution[] => [...executions.values()].map((e) => ({ ...e })),
    /**
     * Takes no more runs and ends the running ones, as a crash would, but only once the handler calls under
     * way have finished (a chunk lasts about one sync wait): their tasks are left unfinished, and the next
     * start's batch sweeper resumes them (reviveBatchTasks). Waiting for whole runs could take minutes. Idempotent.
     */
    stop: () =>
      (stopped ??= (async () => {
        closed = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        for (const abort of running.values()) abort();
        await Promise.all(inFlight);
        await Promise.all(running.keys());
      })()),
  };
};
