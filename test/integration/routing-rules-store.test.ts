import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDb } from '../../shared/adapters/aws/create-dynamodb.ts';
import { keys } from '../../shared/table.ts';
import { apiClient, startTestRuntime, type ApiResponse } from '../support/runtime.ts';

// The routing-rule store's conditional writes against the local DynamoDB: deletes that die, and writers racing.
const runtime = await startTestRuntime();
const api = apiClient(runtime);
const rules = `${api.base}/routing-rule/rules`;
const actions = `${api.base}/routing-rule/actions`;
const db = createDynamoDb(runtime.deps.config.region, runtime.deps.config.endpoints?.dynamodb);
const table = runtime.deps.config.tableName;

const body = (res: ApiResponse) => {
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
};
const newRule = async () =>
  body(await api.call('POST', rules, { subject: { resource: 'device.status', event: 'update' } })).rule_id as string;
const newAction = (ruleId: string) =>
  api.call('POST', actions, {
    rule_id: ruleId,
    channel: 'HTTP_FORWARDING',
    channel_detail: { http_forwarding: { url: 'http://127.0.0.1:9000/push' } },
  });
/** Every action item stored in the project's partition, however the API shows them. */
const storedActions = async () =>
  (
    await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':pk': keys.routing(runtime.project), ':a': 'ACTION#' },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];

describe('routing rule store', () => {
  it('finishes a rule delete that died after marking the rule when the DELETE is repeated', async () => {
    const ruleId = await newRule();
    const kept = body(await newAction(ruleId)).action_id;
    body(await newAction(ruleId));
    await api.call('PUT', `${rules}/${ruleId}`, { active: true });
    // What a delete leaves when its process dies right after its first write.
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.routingRule(runtime.project, ruleId),
        UpdateExpression: 'SET deleting = :t',
        ExpressionAttributeValues: { ':t': Date.now() },
      }),
    );
    expect((await api.call('GET', `${rules}/${ruleId}`)).status).toBe(404);
    expect((await api.call('PUT', `${rules}/${ruleId}`, { active: false })).status).toBe(404);
    expect((await api.call('GET', `${actions}?rule_id=${ruleId}`)).body.count).toBe(0);
    expect((await api.call('PUT', `${actions}/${kept}`, { channel: 'HTTP_FORWARDING' })).status).toBe(404);
    expect((await newAction(ruleId)).body.error_code).toBe('DOWNLINK.404004');
    expect(await runtime.deps.routingRules.activeRoutes(runtime.project, 'device.status', 'update')).toEqual([]);
    expect((await storedActions()).filter((a) => a.ruleId === ruleId)).toHaveLength(2);

    expect((await api.call('DELETE', `${rules}/${ruleId}`)).status).toBe(204);
    expect((await storedActions()).filter((a) => a.ruleId === ruleId)).toEqual([]);
    expect((await api.call('DELETE', `${rules}/${ruleId}`)).status).toBe(404);
  });

  it('never leaves an action behind a rule deleted while actions are being added to it', async () => {
    const ruleIds = await Promise.all(Array.from({ length: 8 }, newRule));
    const outcomes = await Promise.all(
      ruleIds.flatMap((ruleId) => [
        ...Array.from({ length: 3 }, () => newAction(ruleId)),
        api.call('DELETE', `${rules}/${ruleId}`),
      ]),
    );
    for (const res of outcomes) expect([201, 204, 404]).toContain(res.status);
    expect(outcomes.filter((r) => r.status === 204)).toHaveLength(ruleIds.length);
    const orphans = (await storedActions()).filter((a) => ruleIds.includes(String(a.ruleId)));
    expect(orphans).toEqual([]);
  });

  it('applies concurrent updates of one rule each on top of the others', async () => {
    const ruleId = await newRule();
    const updates = await Promise.all([
      api.call('PUT', `${rules}/${ruleId}`, { active: true }),
      api.call('PUT', `${rules}/${ruleId}`, { rule_name: 'named' }),
      api.call('PUT', `${rules}/${ruleId}`, { description: 'described' }),
      api.call('PUT', `${rules}/${ruleId}`, { select: '*', where: "notify_data.body.status = 'ONLINE'" }),
    ]);
    expect(updates.map((u) => u.status)).toEqual([200, 200, 200, 200]);
    expect((await api.call('GET', `${rules}/${ruleId}`)).body).toMatchObject({
      active: true,
      rule_name: 'named',
      description: 'described',
      where: "notify_data.body.status = 'ONLINE'",
    });
  });
});
