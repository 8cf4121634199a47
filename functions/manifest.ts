/**
 * The one definition of every function and what triggers it (DESIGN.md "One definition, two runtimes").
 * infra/ deploys it to AWS; local/ wires the same handlers to emulators.
 */

export type QueueName = 'presence' | 'notifications';

export interface QueueDef {
  /** Physical name locally; on AWS the stack names queues itself. */
  localName: string;
  visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: number;
}

export const QUEUES: Record<QueueName, QueueDef> = {
  presence: { localName: 'downlink-presence', visibilityTimeoutSeconds: 60, maxReceiveCount: 5 },
  // Read by the operator's applications (CONTRACT.md §3); nothing here consumes it.
  notifications: { localName: 'downlink-notifications', visibilityTimeoutSeconds: 30, maxReceiveCount: 10 },
};

export type Trigger =
  | { kind: 'http'; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }
  | { kind: 'api-authorizer' }
  | { kind: 'device-authorizer' }
  | { kind: 'queue'; queue: QueueName; batchSize: number };

/** What a function may touch; the stack grants exactly this, and sets the matching configuration. */
export interface Access {
  table?: 'read' | 'write';
  notify?: boolean;
  publish?: boolean;
}

export interface FunctionDef {
  name: string;
  /** Module path from the repository root; it exports `build(deps)` and the Lambda `handler`. */
  entry: string;
  triggers: Trigger[];
  access: Access;
  timeoutSeconds?: number;
}

/** IoT rules: lifecycle topics are fixed by AWS; the local broker publishes the same events on the same topics. */
export interface IotRuleDef {
  name: string;
  sql: string;
  queue: QueueName;
}

const API = '/v5/iot/{project_id}';

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
    name: 'add-device',
    entry: 'functions/api/add-device.ts',
    triggers: [{ kind: 'http', method: 'POST', path: `${API}/devices` }],
    access: { table: 'write' },
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
    access: { table: 'write' },
  },
  {
    name: 'presence',
    entry: 'functions/sqs/presence.ts',
    triggers: [{ kind: 'queue', queue: 'presence', batchSize: 10 }],
    access: { table: 'write', notify: true },
  },
];

export const IOT_RULES: IotRuleDef[] = [
  { name: 'presence_events', sql: "SELECT * FROM '$aws/events/presence/+/+'", queue: 'presence' },
  { name: 'subscription_events', sql: "SELECT * FROM '$aws/events/subscriptions/+/+'", queue: 'presence' },
];
