/**
 * The one DynamoDB table (DESIGN.md "Data"), defined once for the CDK stack and the local runtime.
 * Item keys:
 *   DEVICE#{device_id} / DEVICE              a device; device ids are unique per deployment (MQTT names no project);
 *                                            gsi1 DEVICES#{project} / {list id} lists a project's (ListDevices)
 *   TOKEN#{sha256(token)} / TOKEN            an API token; gsi1 TOKENS / {created}#{id} lists them
 *   REQ#{request_id} / ANSWER#{kind}#{device_id}
 *                                            a device's answer to a synchronous request, read by its waiting caller (TTL)
 *   DEVICE#{device_id} / MSG#{generation}#{message_id}
 *                                            a message of one registration of the device (see `registration`);
 *                                            gsi1 HISTORY#{registration} / {created}#{id} orders the history,
 *                                            sparse gsi2 PENDING#{registration} and gsi3 EXPIRY#{shard} / {deadline}#...
 *                                            hold it only while it is PENDING
 *   BATCH#{project}#{task_id} / TASK         a batch task with its progress counters (and its targets when at
 *                                            most 100, for list rows); gsi1 BATCHTASKS#{project}#{type}
 *                                            / {task_id} lists a project's tasks, gsi2 ...#{type}#{status} by status
 *                                            sparse gsi3 BATCH_UNFINISHED / {task_id} holds it until it ends
 *                                            (or BATCH_DELETING while its sub-tasks are removed)
 *   BATCH#{project}#{task_id}#{chunk} / SUB#{seq}
 *                                            a sub-task, seq = position in the targets (5 digits), one
 *                                            partition per chunk of 100 so a 30 000-target task spreads its
 *                                            writes; gsi1 BATCHSUB#{project}#{task}#{target} finds a target's,
 *                                            gsi2 BATCHSUB#{project}#{task}#{chunk}#{status} pages a status
 *   BATCH#{project}#{task_id}#TARGETS#{part} / TARGETS
 *                                            up to 1 000 of the targets of a task of over 100, as the create
 *                                            call stores them (one partition each): the state machine's first
 *                                            step turns them into sub-tasks, ShowBatchTask shows them; removed
 *                                            with the task
 *   PRODUCT#{product_id} / PRODUCT          a product and its model (gzipped); gsi1 PRODUCTS#{project} / {list id}
 *                                            lists a project's; product ids are unique per deployment, like device ids
 *   PRODUCT#{product_id} / DEVICE#{device_id}#{generation}
 *                                            a device registration that uses the product (read consistently
 *                                            before the product is deleted)
 *   LEASE#{name} / LEASE                   who runs a sweeper now, and until when (TTL removes it a day later)
 *   ROUTING#{project} / RULE#{rule_id}      a routing rule (CONTRACT.md §7); gsi1 ROUTES#{project}#{resource}#{event}
 *                                            / {rule_id} with its actions beside it, so delivery reads a subject's
 *                                            rules and actions in one Query
 *   ROUTING#{project} / ACTION#{action_id}  a rule's HTTP forwarding action; gsi1 ROUTES#... / {rule_id}#{action_id}
 *   PUSH#{project} / PUSH                   the project has had a routing rule: its notifications go to push-route
 *                                            (written before its first rule, never removed)
 * The GSIs are overloaded (single-table design): each item kind puts its own prefix in gsiNpk, so one index
 * serves several access patterns without adding an index per pattern.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
} as const;

/**
 * One registration of a device: its id plus the generation AddDevice gave it. A device deleted and added
 * again (by any project) is a new registration, so nothing the old one owned is under the new one's keys.
 * Devices stored before generations existed have generation '' and keep their old keys.
 */
const registration = (deviceId: string, generation: string) => (generation ? `${deviceId}#${generation}` : deviceId);

/** Sort-key prefix of one registration's messages in the device's partition. */
export const messagePrefix = (generation: string) => (generation ? `MSG#${generation}#` : 'MSG#');

export const keys = {
  device: (deviceId: string) => ({ pk: `DEVICE#${deviceId}`, sk: 'DEVICE' }),
  token: (tokenHash: string) => ({ pk: `TOKEN#${tokenHash}`, sk: 'TOKEN' }),
  response: (requestId: string, deviceId: string, kind: string) => ({
    pk: `REQ#${requestId}`,
    sk: `ANSWER#${kind}#${deviceId}`,
  }),
  message: (deviceId: string, generation: string, messageId: string) => ({
    pk: `DEVICE#${deviceId}`,
    sk: `${messagePrefix(generation)}${messageId}`,
  }),
  messageHistory: (deviceId: string, generation: string) => `HISTORY#${registration(deviceId, generation)}`,
  pendingMessages: (deviceId: string, generation: string) => `PENDING#${registration(deviceId, generation)}`,
  batchTask: (project: string, taskId: string) => ({ pk: `BATCH#${project}#${taskId}`, sk: 'TASK' }),
  subtask: (project: string, taskId: string, chunk: string, seq: string) => ({
    pk: `BATCH#${project}#${taskId}#${chunk}`,
    sk: `SUB#${seq}`,
  }),
  batchTargets: (project: string, taskId: string, part: string) => ({
    pk: `BATCH#${project}#${taskId}#TARGETS#${part}`,
    sk: 'TARGETS',
  }),
  tokenList: 'TOKENS',
  product: (productId: string) => ({ pk: `PRODUCT#${productId}`, sk: 'PRODUCT' }),
  productList: (project: string) => `PRODUCTS#${project}`,
  lease: (name: string) => ({ pk: `LEASE#${name}`, sk: 'LEASE' }),
  deviceList: (project: string) => `DEVICES#${project}`,
  routing: (project: string) => `ROUTING#${project}`,
  routingRule: (project: string, ruleId: string) => ({ pk: `ROUTING#${project}`, sk: `RULE#${ruleId}` }),
  routingAction: (project: string, actionId: string) => ({ pk: `ROUTING#${project}`, sk: `ACTION#${actionId}` }),
  pushMark: (project: string) => ({ pk: `PUSH#${project}`, sk: 'PUSH' }),
  routes: (project: string, resource: string, event: string) => `ROUTES#${project}#${resource}#${event}`,
} as const;

/** What each GSI is used for; the same attribute names as in TABLE.indexes. */
export const indexKeys = {
  history: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  pending: { index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  expiry: { index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk' },
  taskList: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  taskListByStatus: { index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  subtaskByTarget: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  subtaskByStatus: { index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  unfinishedTasks: { index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk' },
  productList: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  deviceList: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  routes: { index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
} as const;
