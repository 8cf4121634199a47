import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Counts what one process asks of AWS (or its emulators), for `npm run bench -- cost` and the call-count
 * tests: every SDK call by service and operation, DynamoDB's consumed capacity, and the function
 * invocations the calls were made in.
 *
 * How: every SDK v3 client extends smithy's `Client`, whose `send` runs the client's middleware stack.
 * `install()` wraps that one `send` so a client adds the counting middleware to its stack the first time it
 * sends; no client is built differently, and before `install()` nothing changes. The runtime marks each
 * handler invocation (`invoked`, local/runtime.ts), and AsyncLocalStorage carries that mark through the
 * handler's awaits, so each call knows the invocation it belongs to and whether that invocation had
 * already returned (work left running after the answer).
 */

export type Phase =
  /** Made by an invocation before it returned. */
  | 'during'
  /** Made by an invocation's left-over work after it returned. */
  | 'after-return'
  /**
   * Made by the invocation before it returned and after its first iot-data Publish (a sync request's waiter polls
   * here).
   */
  | 'after-publish';

export interface CallRecord {
  /** The client's service, e.g. `DynamoDB`, `SQS`, `IoTDataPlane`, `SFN`. */
  service: string;
  /** The API operation, e.g. `GetItem`, `BatchGetItem`, `Publish`. */
  operation: string;
  /**
   * The function whose invocation made the call; undefined for calls outside any (the local runtime's own
   * plumbing, a test).
   */
  fn: string | undefined;
  /** The invocation's trigger kind (`http`, `api-authorizer`, `queue`, `rule`, `state-machine`, `schedule`, …). */
  trigger: string | undefined;
  invocation: number | undefined;
  phase: Phase | undefined;
  /** DynamoDB capacity units the call consumed, as DynamoDB reported them (ReturnConsumedCapacity TOTAL). */
  rcu: number;
  wcu: number;
  /** The error's name when the call failed (a failed conditional write is still billed). */
  error?: string;
}

export interface InvocationRecord {
  id: number;
  fn: string;
  trigger: string;
  /** Wall-clock time of the handler in this process: not what Lambda would bill, see bench/cost.ts. */
  durationMs: number;
  /** Bytes the invocation wrote to stdout/stderr (its log lines), when `countLogs` is on. */
  logBytes: number;
}

interface Scope {
  fn: string;
  trigger: string;
  invocation: number;
  returned: boolean;
  /** Set by the invocation's first iot-data Publish. */
  published: boolean;
  logBytes: number;
}

const scopes = new AsyncLocalStorage<Scope>();
let calls: CallRecord[] = [];
let invocations: InvocationRecord[] = [];
let nextInvocation = 1;
let running = 0;
let installed = false;

// Operations that take ReturnConsumedCapacity, and which kind of capacity each consumes.
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

type Capacity = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
const unitsOf = (c: Capacity) =>
  (Array.isArray(c) ? c : c ? [c] : []).reduce((sum, x) => sum + (x.CapacityUnits ?? 0), 0);

/** `DynamoDBClient`/`GetItemCommand` → `DynamoDB`/`GetItem`; the document client's `GetCommand` runs as `GetItem`. */
const DOCUMENT_OPERATIONS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};
const nameOf = (clientName: string | undefined, commandName: string | undefined) => {
  const service = (clientName ?? 'unknown').replace(/Client$/, '');
  const command = (commandName ?? 'unknown').replace(/Command$/, '');
  return {
    service: service === 'DynamoDBDocument' ? 'DynamoDB' : service,
    operation: DOCUMENT_OPERATIONS[command] ?? command,
  };
};

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Context = { clientName?: string; commandName?: string };

const record = (context: Context, output: Record<string, unknown> | undefined, error: unknown) => {
  const { service, operation } = nameOf(context.clientName, context.commandName);
  const scope = scopes.getStore();
  if (scope && service === 'IoTDataPlane' && operation === 'Publish') scope.published = true;
  const units = unitsOf(output?.ConsumedCapacity as Capacity);
  let phase: Phase | undefined;
  if (scope)
    phase = scope.returned
      ? 'after-return'
      : scope.published && service !== 'IoTDataPlane'
        ? 'after-publish'
        : 'during';
  calls.push({
    service,
    operation,
    fn: scope?.fn,
    trigger: scope?.trigger,
    invocation: scope?.invocation,
    phase,
    rcu: READS.has(operation) ? units : 0,
    wcu: WRITES.has(operation) ? units : 0,
    ...(error ? { error: (error as Error).name } : {}),
  });
};

const countingMiddleware = (next: Next, context: Context) => async (args: { input: Record<string, unknown> }) => {
  const { operation, service } = nameOf(context.clientName, context.commandName);
  // A copy: the caller's input object is left as it was.
  const asked =
    service === 'DynamoDB' && (READS.has(operation) || WRITES.has(operation))
      ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } }
      : args;
  try {
    const result = await next(asked);
    record(context, result.output, undefined);
    return result;
  } catch (e) {
    record(context, undefined, e);
    throw e;
  }
};

const MIDDLEWARE_NAME = 'downlinkCallMeter';
type Stack = { add: (mw: unknown, options: Record<string, unknown>) => void; identify?: () => string[] };

/** Starts counting: every SDK client counts its calls from its next `send` on. Idempotent; stays for the process. */
export const install = () => {
  if (installed) return;
  installed = true;
  // smithy's Client, the class every SDK v3 client (and the DynamoDB document client) extends; taken from a
  // client class so it is the copy the SDK itself loaded.
  const base = Object.getPrototypeOf(DynamoDBClient.prototype) as { send: (...args: unknown[]) => unknown };
  const send = base.send;
  const equipped = new WeakSet<object>();
  base.send = function (this: { middlewareStack: Stack }, ...args: unknown[]) {
    // The document client shares its base client's stack: one middleware per stack, not per client.
    const stack = this.middlewareStack;
    if (!equipped.has(stack)) {
      equipped.add(stack);
      if (!stack.identify?.().some((n) => n.startsWith(MIDDLEWARE_NAME)))
        stack.add(countingMiddleware, { step: 'initialize', priority: 'high', name: MIDDLEWARE_NAME });
    }
    return send.apply(this, args);
  };
};

export const isInstalled = () => installed;

/** Forgets what was counted so far. */
export const reset = () => {
  calls = [];
  invocations = [];
};

/** What was counted since the last reset (copies). */
export const snapshot = () => ({ calls: [...calls], invocations: [...invocations] });

/** Invocations started and not yet returned. */
export const runningInvocations = () => running;

/** The invocation the current code runs in, if any (to attribute log lines, say). */
export const currentScope = () => scopes.getStore();

/**
 * A handler that marks each of its invocations, for the runtime to call in place of the handler. Before
 * `install()` it calls the handler straight through.
 */
export const invoked =
  <E, C, R>(fn: string, trigger: string, handler: (event: E, context: C) => Promise<R>) =>
  (event: E, context: C): Promise<R> => {
    if (!installed) return handler(event, context);
    const scope: Scope = { fn, trigger, invocation: nextInvocation++, returned: false, published: false, logBytes: 0 };
    const started = performance.now();
    running++;
    const done = () => {
      running--;
      scope.returned = true;
      invocations.push({
        id: scope.invocation,
        fn,
        trigger,
        durationMs: performance.now() - started,
        logBytes: scope.logBytes,
      });
    };
    return scopes.run(scope, async () => {
      try {
        return await handler(event, context);
      } finally {
        done();
      }
    });
  };

/** Adds `bytes` to the log volume of the invocation the caller runs in (no-op outside one). */
export const countLogBytes = (bytes: number) => {
  const scope = scopes.getStore();
  if (scope && !scope.returned) scope.logBytes += bytes;
};
