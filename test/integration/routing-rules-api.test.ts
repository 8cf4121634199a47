import { describe, expect, it } from 'vitest';
import { PUSH_URL_MAX_LENGTH } from '../../shared/domain/push-url.ts';
import { WHERE_MAX_LENGTH } from '../../shared/domain/routing-rules.ts';
import { createApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { apiClient, expectInvalid, startTestRuntime, type ApiResponse } from '../support/runtime.ts';

const runtime = await startTestRuntime();
const api = apiClient(runtime);
const rules = `${api.base}/routing-rule/rules`;
const actions = `${api.base}/routing-rule/actions`;

const ruleBody = (overrides: Record<string, unknown> = {}) => ({
  rule_name: 'delivered',
  subject: { resource: 'device.message.status', event: 'update' },
  app_type: 'APP',
  ...overrides,
});
const actionBody = (ruleId: string, http: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) => ({
  rule_id: ruleId,
  channel: 'HTTP_FORWARDING',
  channel_detail: { http_forwarding: { url: 'http://127.0.0.1:9000/push', token: 'abc123', ...http } },
  ...overrides,
});

const created = (res: ApiResponse) => {
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const createRule = async (overrides: Record<string, unknown> = {}, client = api, base = rules) =>
  created(await client.call('POST', base, ruleBody(overrides)));
const createAction = async (ruleId: string, http: Record<string, unknown> = {}) =>
  created(await api.call('POST', actions, actionBody(ruleId, http)));
const countRules = async () => (await api.call('GET', `${rules}?limit=50`)).body.count as number;
const countActions = async () => (await api.call('GET', `${actions}?limit=50`)).body.count as number;

describe('routing rules API (CONTRACT.md §7)', () => {
  it('creates an inactive rule, shows it, lists it, and activates it with PUT {active: true}', async () => {
    const rule = await createRule({
      description: 'messages delivered to valve-1',
      select: '*',
      where: "notify_data.header.device_id = 'valve-1' AND notify_data.body.status = 'DELIVERED'",
    });
    expect(rule).toEqual({
      rule_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      rule_name: 'delivered',
      description: 'messages delivered to valve-1',
      subject: { resource: 'device.message.status', event: 'update' },
      app_type: 'APP',
      app_id: runtime.project,
      select: '*',
      where: "notify_data.header.device_id = 'valve-1' AND notify_data.body.status = 'DELIVERED'",
      active: false,
    });
    expect(await api.call('GET', `${rules}/${rule.rule_id}`)).toMatchObject({ status: 200, body: rule });
    const listed = await api.call('GET', `${rules}?limit=50`);
    expect(listed.body.rules).toContainEqual(rule);

    const activated = await api.call('PUT', `${rules}/${rule.rule_id}`, { active: true });
    expect(activated).toMatchObject({ status: 200, body: { ...rule, active: true } });
    expect((await api.call('GET', `${rules}/${rule.rule_id}`)).body.active).toBe(true);

    const routes = await runtime.deps.routingRules.activeRoutes(runtime.project, 'device.message.status', 'update');
    expect(routes.map((r) => r.rule.ruleId)).toContain(rule.rule_id);
  });

  it('updates the name, description and condition, and clears the condition with an empty where', async () => {
    const rule = await createRule({ where: "resource = 'x'" });
    const updated = await api.call('PUT', `${rules}/${rule.rule_id}`, {
      rule_name: 'renamed',
      description: 'd',
      select: '*',
      where: 'notify_data.body.retries >= 2',
    });
    expect(updated).toMatchObject({
      status: 200,
      body: { rule_name: 'renamed', description: 'd', where: 'notify_data.body.retries >= 2', active: false },
    });
    const cleared = await api.call('PUT', `${rules}/${rule.rule_id}`, { select: '*', where: '' });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('where');
    expect(cleared.body.rule_name).toBe('renamed');
    expect((await api.call('GET', `${rules}/${rule.rule_id}`)).body).toEqual(cleared.body);
  });

  it('creates, shows, lists, updates and deletes an HTTP forwarding action, never showing its token', async () => {
    const rule = await createRule();
    const action = await createAction(rule.rule_id);
    expect(action).toEqual({
      action_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      rule_id: rule.rule_id,
      app_id: runtime.project,
      channel: 'HTTP_FORWARDING',
      channel_detail: { http_forwarding: { url: 'http://127.0.0.1:9000/push', signature_enable: true } },
      batch: false,
    });
    expect(await api.call('GET', `${actions}/${action.action_id}`)).toMatchObject({ status: 200, body: action });
    const ofRule = await api.call('GET', `${actions}?rule_id=${rule.rule_id}`);
    expect(ofRule.body).toEqual({ actions: [action], count: 1, marker: action.action_id });
    const stored = await runtime.deps.routingRules.getAction(runtime.project, action.action_id);
    expect(stored).toMatchObject({ url: 'http://127.0.0.1:9000/push', token: 'abc123' });

    const updated = await api.call('PUT', `${actions}/${action.action_id}`, {
      channel_detail: { http_forwarding: { url: 'http://localhost:9001/other' } },
    });
    expect(updated).toMatchObject({
      status: 200,
      body: { channel_detail: { http_forwarding: { url: 'http://localhost:9001/other', signature_enable: false } } },
    });
    expect((await runtime.deps.routingRules.getAction(runtime.project, action.action_id))?.token).toBeUndefined();

    expect((await api.call('DELETE', `${actions}/${action.action_id}`)).status).toBe(204);
    expect(await api.call('GET', `${actions}/${action.action_id}`)).toMatchObject({
      status: 404,
      body: { error_code: 'DOWNLINK.404005' },
    });
    expect((await api.call('DELETE', `${actions}/${action.action_id}`)).status).toBe(404);
  });

  it('deletes a rule with its actions, and gives delivery an active rule with its actions only', async () => {
    const rule = await createRule({ subject: { resource: 'batchtask', event: 'update' } });
    const first = await createAction(rule.rule_id);
    const second = await createAction(rule.rule_id, { url: 'http://127.0.0.1:9002/b', token: undefined });
    const other = await createRule({ subject: { resource: 'batchtask', event: 'update' } });
    const kept = await createAction(other.rule_id);
    await api.call('PUT', `${rules}/${rule.rule_id}`, { active: true });

    const routes = await runtime.deps.routingRules.activeRoutes(runtime.project, 'batchtask', 'update');
    // The other rule is inactive: delivery does not see it.
    expect(routes.map((r) => r.rule.ruleId)).toEqual([rule.rule_id]);
    expect(routes[0]!.rule).toMatchObject({ active: true, resource: 'batchtask', event: 'update' });
    expect(routes[0]!.actions.map((a) => a.actionId).sort()).toEqual([first.action_id, second.action_id].sort());
    expect(await runtime.deps.routingRules.activeRoutes(runtime.project, 'device.status', 'update')).toEqual([]);

    expect((await api.call('DELETE', `${rules}/${rule.rule_id}`)).status).toBe(204);
    for (const a of [first, second])
      expect((await api.call('GET', `${actions}/${a.action_id}`)).body.error_code).toBe('DOWNLINK.404005');
    expect((await api.call('GET', `${rules}/${rule.rule_id}`)).body.error_code).toBe('DOWNLINK.404004');
    expect((await api.call('DELETE', `${rules}/${rule.rule_id}`)).status).toBe(404);
    expect((await api.call('GET', `${actions}/${kept.action_id}`)).status).toBe(200);
    expect(await runtime.deps.routingRules.activeRoutes(runtime.project, 'batchtask', 'update')).toEqual([]);
  });

  it('pages rules and actions newest first with limit, marker and offset, filtering rules as IoTDA does', async () => {
    const { token } = await createApiToken(runtime.deps, ['paging'], 'paging');
    const pager = apiClient(runtime, token);
    const base = '/v5/iot/paging/routing-rule';
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(
        await createRule(
          { rule_name: `r${i}`, subject: { resource: i < 3 ? 'device.status' : 'batchtask', event: 'update' } },
          pager,
          `${base}/rules`,
        ),
      );
    const ids = made.map((r) => r.rule_id).reverse();
    const first = await pager.call('GET', `${base}/rules?limit=2`);
    expect(first.body.rules.map((r: any) => r.rule_id)).toEqual(ids.slice(0, 2));
    expect(first.body).toMatchObject({ count: 5, marker: ids[1] });
    const next = await pager.call('GET', `${base}/rules?limit=2&marker=${first.body.marker}`);
    expect(next.body.rules.map((r: any) => r.rule_id)).toEqual(ids.slice(2, 4));
    const skipped = await pager.call('GET', `${base}/rules?offset=4`);
    expect(skipped.body.rules.map((r: any) => r.rule_id)).toEqual(ids.slice(4));
    const byResource = await pager.call('GET', `${base}/rules?resource=batchtask&event=update`);
    expect(byResource.body).toMatchObject({ count: 2 });
    expect((await pager.call('GET', `${base}/rules?rule_name=r4`)).body.rules.map((r: any) => r.rule_name)).toEqual([
      'r4',
    ]);
    await pager.call('PUT', `${base}/rules/${ids[0]}`, { active: true });
    expect((await pager.call('GET', `${base}/rules?active=true`)).body.rules.map((r: any) => r.rule_id)).toEqual([
      ids[0],
    ]);
    const last = await pager.call('GET', `${base}/rules?marker=${ids[4]}`);
    expect(last.body).toEqual({ rules: [], count: 5 });

    for (let i = 0; i < 3; i++)
      created(
        await pager.call('POST', `${base}/actions`, actionBody(made[0].rule_id, { url: `http://127.0.0.1/${i}` })),
      );
    const page = await pager.call('GET', `${base}/actions?limit=2`);
    expect(page.body.actions.map((a: any) => a.channel_detail.http_forwarding.url)).toEqual([
      'http://127.0.0.1/2',
      'http://127.0.0.1/1',
    ]);
    expect(page.body.count).toBe(3);
    const rest = await pager.call('GET', `${base}/actions?limit=2&marker=${page.body.marker}`);
    expect(rest.body.actions.map((a: any) => a.channel_detail.http_forwarding.url)).toEqual(['http://127.0.0.1/0']);
    expectInvalid(await pager.call('GET', `${base}/rules?limit=51`), 'limit');
    expectInvalid(await pager.call('GET', `${base}/actions?marker=xyz`), 'marker');
    expectInvalid(await pager.call('GET', `${base}/rules?resource=device.data`), 'resource');
    expectInvalid(await pager.call('GET', `${base}/actions?channel=DIS_FORWARDING`), 'channel');
  });

  it('keeps projects apart: another project can neither see nor touch a rule or its actions', async () => {
    const rule = await createRule();
    const action = await createAction(rule.rule_id);
    await api.call('PUT', `${rules}/${rule.rule_id}`, { active: true });
    const { token } = await createApiToken(runtime.deps, ['intruder'], 'intruder');
    const intruder = apiClient(runtime, token);
    const base = '/v5/iot/intruder/routing-rule';
    for (const [method, payload] of [['GET'], ['PUT', { active: false }], ['DELETE']] as const) {
      expect((await intruder.call(method, `${base}/rules/${rule.rule_id}`, payload)).body.error_code).toBe(
        'DOWNLINK.404004',
      );
      expect(
        (await intruder.call(method, `${base}/actions/${action.action_id}`, payload && { channel: 'HTTP_FORWARDING' }))
          .body.error_code,
      ).toBe('DOWNLINK.404005');
    }
    expect((await intruder.call('GET', `${base}/rules`)).body).toEqual({ rules: [], count: 0 });
    expect((await intruder.call('GET', `${base}/actions`)).body).toEqual({ actions: [], count: 0 });
    expect((await intruder.call('POST', `${base}/actions`, actionBody(rule.rule_id))).body.error_code).toBe(
      'DOWNLINK.404004',
    );
    expect(await runtime.deps.routingRules.activeRoutes('intruder', 'device.message.status', 'update')).toEqual([]);
    // The owner's rule is untouched.
    expect((await api.call('GET', `${rules}/${rule.rule_id}`)).body.active).toBe(true);
    expect((await api.call('GET', `${actions}/${action.action_id}`)).status).toBe(200);
    // A token for another project is refused outright.
    expect((await intruder.call('GET', `${rules}/${rule.rule_id}`)).status).toBe(403);
  });

  it.each([
    [{ subject: { resource: 'device.data', event: 'update' } }, 'subject.resource'],
    [{ subject: { resource: 'device.status', event: 'create' } }, 'subject.event'],
    [{ subject: undefined }, 'subject'],
    [{ subject: 'device.status' }, 'subject'],
    [{ rule_name: 'x'.repeat(257) }, 'rule_name'],
    [{ rule_name: 7 }, 'rule_name'],
    [{ description: 'x'.repeat(257) }, 'description'],
    [{ where: "notify_data.body.status = 'DELIVERED" }, 'where'],
    [{ where: 'status LIKE 1' }, 'where'],
    [{ where: `a = '${'x'.repeat(WHERE_MAX_LENGTH)}'` }, 'where'],
    [{ where: 5 }, 'where'],
    [{ select: 'notify_data.body', where: "a = 'b'" }, 'select'],
  ])('refuses a rule with %j naming %s, and stores nothing', async (overrides, field) => {
    const before = await countRules();
    expectInvalid(await api.call('POST', rules, ruleBody(overrides)), field);
    expect(await countRules()).toBe(before);
  });

  it.each([
    [{ active: 'yes' }, 'active'],
    [{ where: "a = 'b'" }, 'select'],
    [{ select: '*' }, 'where'],
    [{ select: '*', where: 'a = ' }, 'where'],
    [{ rule_name: 'x'.repeat(257) }, 'rule_name'],
  ])('refuses an update with %j naming %s, and changes nothing', async (body, field) => {
    const rule = await createRule({ where: "a = 'b'" });
    expectInvalid(await api.call('PUT', `${rules}/${rule.rule_id}`, body), field);
    expect((await api.call('GET', `${rules}/${rule.rule_id}`)).body).toEqual(rule);
  });

  it.each([
    [{ channel: 'DIS_FORWARDING' }, {}, 'channel'],
    [{ channel: undefined }, {}, 'channel'],
    [{ rule_id: undefined }, {}, 'rule_id'],
    [{ channel_detail: {} }, {}, 'channel_detail.http_forwarding'],
    [{ batch: true }, {}, 'batch'],
    [{}, { url: undefined }, 'channel_detail.http_forwarding.url'],
    [{}, { url: 'ftp://127.0.0.1/x' }, 'channel_detail.http_forwarding.url'],
    [{}, { url: 'not a url' }, 'channel_detail.http_forwarding.url'],
    [{}, { url: `http://127.0.0.1/${'a'.repeat(PUSH_URL_MAX_LENGTH)}` }, 'channel_detail.http_forwarding.url'],
    [{}, { token: 'ab' }, 'channel_detail.http_forwarding.token'],
    [{}, { token: 'a'.repeat(33) }, 'channel_detail.http_forwarding.token'],
    [{}, { token: 'not-alnum' }, 'channel_detail.http_forwarding.token'],
    [{}, { token: undefined, signature_enable: true }, 'channel_detail.http_forwarding.token'],
  ])('refuses an action with %j %j naming %s, and stores nothing', async (overrides, http, field) => {
    const rule = await createRule();
    const before = await countActions();
    expectInvalid(await api.call('POST', actions, actionBody(rule.rule_id, http, overrides)), field);
    expect(await countActions()).toBe(before);
  });

  it('refuses a bad action update naming the field, and changes nothing', async () => {
    const rule = await createRule();
    const action = await createAction(rule.rule_id);
    for (const [body, field] of [
      [{ channel: 'OBS_FORWARDING' }, 'channel'],
      [{ channel_detail: { http_forwarding: { url: 'gopher://x' } } }, 'channel_detail.http_forwarding.url'],
      [{ channel_detail: { http_forwarding: { url: 'http://a/', token: '!' } } }, 'token'],
    ] as const)
      expectInvalid(await api.call('PUT', `${actions}/${action.action_id}`, body), field);
    expect((await api.call('GET', `${actions}/${action.action_id}`)).body).toEqual(action);
  });

  it('answers 404 for unknown or malformed rule and action ids, and for an action on a missing rule', async () => {
    const missing = 'ffffffffffffffffffffffff';
    for (const id of [missing, 'not-an-id', 'F'.repeat(24)])
      for (const [method, body] of [['GET'], ['PUT', { active: true }], ['DELETE']] as const) {
        expect(await api.call(method, `${rules}/${id}`, body)).toMatchObject({
          status: 404,
          body: { error_code: 'DOWNLINK.404004' },
        });
        expect(await api.call(method, `${actions}/${id}`, body && {})).toMatchObject({
          status: 404,
          body: { error_code: 'DOWNLINK.404005' },
        });
      }
    const before = await countActions();
    for (const ruleId of [missing, 'nope'])
      expect(await api.call('POST', actions, actionBody(ruleId))).toMatchObject({
        status: 404,
        body: { error_code: 'DOWNLINK.404004' },
      });
    expect(await countActions()).toBe(before);
  });

  it('answers 400 IOTDA.000008 for a body that is not JSON', async () => {
    const rule = await createRule();
    for (const [method, path] of [
      ['POST', rules],
      ['PUT', `${rules}/${rule.rule_id}`],
      ['POST', actions],
    ] as const)
      expect((await api.call(method, path, '{not json')).body.error_code).toBe('IOTDA.000008');
  });
});

describe('push URLs as the stack deploys (DOWNLINK_PUSH_ALLOW_PRIVATE=false)', async () => {
  const strict = await startTestRuntime({ pushAllowPrivate: false });
  const client = apiClient(strict);
  const base = `${client.base}/routing-rule`;

  it.each([
    ['http://93.184.215.14/push', 'https'],
    ['https://127.0.0.1/push', 'loopback'],
    ['https://localhost/push', 'loopback'],
    ['https://[::ffff:10.0.0.1]/push', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['https://[fd00:ec2::254]/', 'uniqueLocal'],
  ])('refuses %s (%s) and stores nothing', async (url, why) => {
    const rule = created(await client.call('POST', `${base}/rules`, ruleBody()));
    const res = await client.call('POST', `${base}/actions`, actionBody(rule.rule_id, { url }));
    expectInvalid(res, 'channel_detail.http_forwarding.url');
    expect(res.body.error_msg).toContain(why);
    expect((await client.call('GET', `${base}/actions?rule_id=${rule.rule_id}`)).body.count).toBe(0);
  });

  it('takes an https URL to a public address', async () => {
    const rule = created(await client.call('POST', `${base}/rules`, ruleBody()));
    created(
      await client.call('POST', `${base}/actions`, actionBody(rule.rule_id, { url: 'https://93.184.215.14/push' })),
    );
  });
});
