import { responseTopicFilter, SYNC_KINDS } from '../shared/domain/sync-requests.ts';
import type { TopicRoot } from '../shared/domain/topics.ts';

/**
 * The one definition of every function and what triggers it (DESIGN.md "One definition, two runtimes").
 * infra/ deploys it to AWS; local/ wires the same handlers to emulators.
 */

export type QueueName = 'presence' | 'notifications' | 'push-route' | 'push-delivery';

export interface QueueDef {
  /** Physical name locally; on AWS the stack names queues itself. */
  localName: string;
  visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: number;
}

export const QUEUES: Record<QueueName, QueueDef> = {
  // Visibility covers the presence function's timeout, so a batch is not handed out twice while it runs.
  presence: { localName: 'downlink-presence', visibilityTimeoutSeconds: 90, maxReceiveCount: 5 },
  // Read by the operator's applications (CONTRACT.md §3); nothing here consumes it.
  notifications: { localName: 'downlink-notifications', visibilityTimeoutSeconds: 30, maxReceiveCount: 10 },
  // HTTP push (CONTRACT.md §7): every notification again, for the push-route function to match against rules.
  'push-route': { localName: 'downlink-push-route', visibilityTimeoutSeconds: 60, maxReceiveCount: 5 },
  // One message per push and action; push-deliver sends a failed one back with a delay itself, so a receive
  // count past a few means the function keeps failing. Its dead-letter queue is also where a push expires
  // after 24 hours of retries (shared/use-cases/deliver-push.ts), redriven with SQS's own redrive.
  // The visibility covers the 15 s POST plus the re-send; it is also how long a push the local runtime held
  // when killed waits before it is tried again.
  'push-delivery': { localName: 'downlink-push-delivery', visibilityTimeoutSeconds: 40, maxReceiveCount: 5 },
};

export type Trigger =
  | { kind: 'http'; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }
  | { kind: 'api-authorizer' }
  | { kind: 'device-authorizer' }
  | {
      kind: 'queue';
      queue: QueueName;
      batchSize: number;
      /** Batches the local poller runs at once (default 1); Lambda scales its invocations by itself. */
      localConcurrency?: number;
    }
  /** Runs every N minutes (EventBridge on AWS; locally a timer whose minute is DOWNLINK_TTL_MINUTE_MS). */
  | { kind: 'schedule'; everyMinutes: number };

/** What a function may touch; the stack grants exactly this, and sets the matching configuration. */
export interface Access {
  table?: 'read' | 'write';
  notify?: boolean;
  /** Downlink topics it may publish, as suffixes under `{root}/devices/{any device}/`. */
  publish?: string[];
  /** May cut a device's MQTT connection (iot-data DeleteConnection). */
  disconnect?: boolean;
  /** May start runs of the batch state machine (BATCH_WORKFLOW). */
  startBatch?: boolean;
  /** May see how those runs stand (DescribeExecution). */
  watchBatch?: boolean;
  /**
   * HTTP push: `route` may send to the push-delivery queue; `deliver` to it (retries) and to its dead-letter
   * queue (expired pushes). (`notify` sends to the push-route queue as well as the notification queue.)
   */
  push?: 'route' | 'deliver';
}

export interface FunctionDef {
  name: string;
  /** Module path from the repository root; it exports `build(deps)` and the Lambda `handler`. */
  entry: string;
  triggers: Trigger[];
  access: Access;
  timeoutSeconds?: number;
}

/** Where an IoT rule sends what its SQL selects: a queue (SQS action) or a function (Lambda action). */
export type RuleTarget = { queue: QueueName } | { function: string };

/** IoT rules: lifecycle topics are fixed by AWS; the local broker publishes the same events on the same topics. */
export interface IotRuleDef {
  name: string;
  sql: string;
  target: RuleTarget;
}

const API = '/v5/iot/{project_id}';

/** API Gateway settings both runtimes apply. */
export const API_SETTINGS = {
  // 0: the REQUEST authorizer sees tokens and AK/SK signatures alike, and API Gateway could only cache it
  // per value of every identity source (a signature changes each call, and a request without the header
  // would be refused unasked), so it is asked every time (docs/decisions.md "AK/SK signed requests").
  authorizerCacheSeconds: 0,
  // IoTDA §2.1: the 20 s sync wait plus margin; REST API Gateway allows at most 29 s.
  integrationTimeoutSeconds: 29,
};

// IoTDA §2.1: the sync wait is 20 s; the function must outlive it, and API Gateway's 29 s must outlive both.
const SYNC_FUNCTION_TIMEOUT_SECONDS = 26;

// A chunk sends all its commands at once, so it lasts about one sync wait; the rest covers its DynamoDB writes.
const BATCH_CHUNK_TIMEOUT_SECONDS = 90;
const BATCH_PREPARE_TIMEOUT_SECONDS = 300;

// A batch's POSTs run at once, each 15 s at most (CONTRACT.md §7), then the retries' re-send.
const PUSH_DELIVER_TIMEOUT_SECONDS = 30;

export const FUNCTIONS: FunctionDef[] = [
  {
    name: 'api-authorizer',
    entry: 'functions/auth/api-authorizer.ts',
    triggers: [{ kind: 'api-authorizer' }],
    access: { table: 'read' },
  },
  {
    name: 'device-authorizer',
    entry: 'functions/auth/device-authorizer.ts',
    triggers: [{ kind: 'device-authorizer' }],
    access: { table: 'read' },
  },
  {
    name: 'create-product',
    entry: 'functions/api/create-product.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/products` }],
    access: { table: 'write' },
  },
  {
    name: 'list-products',
    entry: 'functions/api/list-products.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/products` }],
    access: { table: 'read' },
  },
  {
    name: 'show-product',
    entry: 'functions/api/show-product.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/products/{product_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'update-product',
    entry: 'functions/api/update-product.ts',
    triggers: [{ kind: 'http', method: 'PUT', path: `${API}/products/{product_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'delete-product',
    entry: 'functions/api/delete-product.ts',
    triggers: [{ kind: 'http', method: 'DELETE', path: `${API}/products/{product_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'add-device',
    entry: 'functions/api/add-device.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/devices` }],
    access: { table: 'write' },
  },
  {
    name: 'list-devices',
    entry: 'functions/api/list-devices.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/devices` }],
    access: { table: 'read' },
  },
  {
    name: 'show-device',
    entry: 'functions/api/show-device.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/devices/{device_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'delete-device',
    entry: 'functions/api/delete-device.ts',
    triggers: [{ kind: 'http', method: 'DELETE', path: `${API}/devices/{device_id}` }],
    access: { table: 'write', disconnect: true },
  },
  {
    name: 'create-command',
    entry: 'functions/api/create-command.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/devices/{device_id}/commands` }],
    // Reads only: the device, its product and the answer (the answer is written by device-response).
    access: { table: 'read', publish: ['sys/commands/*'] },
    timeoutSeconds: SYNC_FUNCTION_TIMEOUT_SECONDS,
  },
  {
    name: 'update-properties',
    entry: 'functions/api/update-properties.ts',
    triggers: [{ kind: 'http', method: 'PUT', path: `${API}/devices/{device_id}/properties` }],
    access: { table: 'read', publish: ['sys/properties/set/*'] },
    timeoutSeconds: SYNC_FUNCTION_TIMEOUT_SECONDS,
  },
  {
    name: 'query-properties',
    entry: 'functions/api/query-properties.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/devices/{device_id}/properties` }],
    access: { table: 'read', publish: ['sys/properties/get/*'] },
    timeoutSeconds: SYNC_FUNCTION_TIMEOUT_SECONDS,
  },
  {
    name: 'device-response',
    entry: 'functions/iot/device-response.ts',
    // Invoked by the response rules below.
    triggers: [],
    access: { table: 'write' },
  },
  {
    name: 'create-message',
    entry: 'functions/api/create-message.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/devices/{device_id}/messages` }],
    // topic_full_name may name any of the device's own topics.
    access: { table: 'write', notify: true, publish: ['*'] },
  },
  {
    name: 'list-messages',
    entry: 'functions/api/list-messages.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/devices/{device_id}/messages` }],
    access: { table: 'read' },
  },
  {
    name: 'show-message',
    entry: 'functions/api/show-message.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/devices/{device_id}/messages/{message_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'create-batch-task',
    entry: 'functions/api/create-batch-task.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/batchtasks` }],
    // Writes up to 1 000 sub-tasks, or stores up to 30 000 targets in 30 items, then starts the run.
    access: { table: 'write', notify: true, startBatch: true },
    timeoutSeconds: SYNC_FUNCTION_TIMEOUT_SECONDS,
  },
  {
    name: 'show-batch-task',
    entry: 'functions/api/show-batch-task.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/batchtasks/{task_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'list-batch-tasks',
    entry: 'functions/api/list-batch-tasks.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/batchtasks` }],
    access: { table: 'read' },
  },
  {
    name: 'stop-batch-task',
    entry: 'functions/api/stop-batch-task.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/batchtasks/{task_id}/stop` }],
    // A whole-task stop starts the run that stops it.
    access: { table: 'write', notify: true, startBatch: true },
  },
  {
    name: 'retry-batch-task',
    entry: 'functions/api/retry-batch-task.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/batchtasks/{task_id}/retry` }],
    access: { table: 'write', notify: true, startBatch: true },
  },
  {
    name: 'delete-batch-task',
    entry: 'functions/api/delete-batch-task.ts',
    triggers: [{ kind: 'http', method: 'DELETE', path: `${API}/batchtasks/{task_id}` }],
    // Removes up to 30 000 sub-tasks, or leaves the rest to the batch sweeper.
    access: { table: 'write' },
    timeoutSeconds: SYNC_FUNCTION_TIMEOUT_SECONDS,
  },
  {
    // CONTRACT.md §7: IoTDA's routing rules, whose HTTP forwarding actions receive the project's pushes.
    name: 'create-routing-rule',
    entry: 'functions/api/create-routing-rule.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/routing-rule/rules` }],
    access: { table: 'write' },
  },
  {
    name: 'list-routing-rules',
    entry: 'functions/api/list-routing-rules.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/routing-rule/rules` }],
    access: { table: 'read' },
  },
  {
    name: 'show-routing-rule',
    entry: 'functions/api/show-routing-rule.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/routing-rule/rules/{rule_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'update-routing-rule',
    entry: 'functions/api/update-routing-rule.ts',
    triggers: [{ kind: 'http', method: 'PUT', path: `${API}/routing-rule/rules/{rule_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'delete-routing-rule',
    entry: 'functions/api/delete-routing-rule.ts',
    triggers: [{ kind: 'http', method: 'DELETE', path: `${API}/routing-rule/rules/{rule_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'create-rule-action',
    entry: 'functions/api/create-rule-action.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/routing-rule/actions` }],
    access: { table: 'write' },
  },
  {
    name: 'list-rule-actions',
    entry: 'functions/api/list-rule-actions.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/routing-rule/actions` }],
    access: { table: 'read' },
  },
  {
    name: 'show-rule-action',
    entry: 'functions/api/show-rule-action.ts',
    triggers: [{ kind: 'http', method: 'GET', path: `${API}/routing-rule/actions/{action_id}` }],
    access: { table: 'read' },
  },
  {
    name: 'update-rule-action',
    entry: 'functions/api/update-rule-action.ts',
    triggers: [{ kind: 'http', method: 'PUT', path: `${API}/routing-rule/actions/{action_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'delete-rule-action',
    entry: 'functions/api/delete-rule-action.ts',
    triggers: [{ kind: 'http', method: 'DELETE', path: `${API}/routing-rule/actions/{action_id}` }],
    access: { table: 'write' },
  },
  {
    name: 'batch-prepare',
    entry: 'functions/batch/prepare.ts',
    // The batch state machine's first step: writes the sub-tasks of a task created Initializing.
    triggers: [],
    access: { table: 'write', notify: true },
    // 30 000 conditional puts on a cold on-demand table (throttled to about 4 000 writes a second, three
    // with the two index entries): a minute at worst; the rest is margin.
    timeoutSeconds: BATCH_PREPARE_TIMEOUT_SECONDS,
  },
  {
    name: 'batch-chunk',
    entry: 'functions/batch/run-chunk.ts',
    // Invoked by the batch state machine's Map, one chunk per invocation.
    triggers: [],
    // createMessages publishes on message topics, custom ones too (as create-message does).
    access: { table: 'write', notify: true, publish: ['*'] },
    timeoutSeconds: BATCH_CHUNK_TIMEOUT_SECONDS,
  },
  {
    name: 'batch-settle',
    entry: 'functions/batch/settle.ts',
    triggers: [],
    access: { table: 'write', notify: true },
    timeoutSeconds: 60,
  },
  {
    name: 'presence',
    entry: 'functions/sqs/presence.ts',
    triggers: [{ kind: 'queue', queue: 'presence', batchSize: 10 }],
    // It sends a reconnected device its pending messages.
    access: { table: 'write', notify: true, publish: ['*'] },
    timeoutSeconds: 60,
  },
  {
    name: 'push-route',
    entry: 'functions/sqs/push-route.ts',
    // Matches each notification against its project's active rules: one delivery per matching action.
    triggers: [{ kind: 'queue', queue: 'push-route', batchSize: 10, localConcurrency: 4 }],
    access: { table: 'read', push: 'route' },
    timeoutSeconds: 30,
  },
  {
    name: 'push-deliver',
    entry: 'functions/sqs/push-deliver.ts',
    // POSTs each push (15 s at most), retries later through the queue, or dead-letters it after 24 hours.
    // Locally many batches at once, since the work is waiting on receivers (one slow one holds only its own).
    triggers: [{ kind: 'queue', queue: 'push-delivery', batchSize: 10, localConcurrency: 64 }],
    access: { table: 'read', push: 'deliver' },
    timeoutSeconds: PUSH_DELIVER_TIMEOUT_SECONDS,
  },
  {
    name: 'message-sweeper',
    entry: 'functions/schedule/message-sweeper.ts',
    triggers: [{ kind: 'schedule', everyMinutes: 1 }],
    access: { table: 'write', notify: true },
    timeoutSeconds: 60,
  },
  {
    name: 'batch-sweeper',
    entry: 'functions/schedule/batch-sweeper.ts',
    // Starts runs whose start was lost, resumes runs whose execution ended early, finishes deletes.
    triggers: [{ kind: 'schedule', everyMinutes: 5 }],
    access: { table: 'write', notify: true, startBatch: true, watchBatch: true },
    timeoutSeconds: 300,
  },
];

/** The one function with this trigger: both runtimes wire the authorizers through it. */
export const theOneWith = (
  functions: readonly FunctionDef[],
  kind: 'api-authorizer' | 'device-authorizer',
): FunctionDef => {
  const found = functions.filter((def) => def.triggers.some((t) => t.kind === kind));
  if (found.length !== 1) throw new Error(`The manifest needs exactly one ${kind} function, found ${found.length}`);
  return found[0]!;
};

/**
 * The rules for a topic root: `oc` on AWS; the local broker may run `$oc`. Device answers go straight to a
 * function (the API call is waiting); the raw payload travels base64-encoded, so any bytes arrive intact.
 */
export const iotRules = (root: TopicRoot): IotRuleDef[] => [
  { name: 'presence_events', sql: "SELECT * FROM '$aws/events/presence/+/+'", target: { queue: 'presence' } },
  { name: 'subscription_events', sql: "SELECT * FROM '$aws/events/subscriptions/+/+'", target: { queue: 'presence' } },
  ...SYNC_KINDS.map((kind) => ({
    name: `${kind.replace('-', '_')}_responses`,
    sql: `SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientid FROM '${responseTopicFilter(root, kind)}'`,
    target: { function: 'device-response' },
  })),
];

/** The rules the stack deploys: IoT Core reserves `$` topics, so the root there is `oc`. */
export const IOT_RULES = iotRules('oc');

/**
 * The batch task state machine (DESIGN.md "Batch task"), built from this by infra/constructs/batch.ts for the
 * stack and, through the same builder, for the local runtime: prepare, an inline Map over chunk references,
 * settle, and the next pass as a new execution.
 */
export const BATCH_WORKFLOW = {
  /** Research aws.md §4: an inline Map runs at most 40 iterations at once. */
  maxConcurrency: 40,
  prepareFunction: 'batch-prepare',
  chunkFunction: 'batch-chunk',
  settleFunction: 'batch-settle',
  /** A Standard execution's history holds at most this many events (research aws.md); the design stays under it. */
  maxHistoryEvents: 25_000,
} as const;
