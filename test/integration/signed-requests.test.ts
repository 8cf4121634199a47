import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/manifest.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { createAccessKey, revokeApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { connectDevice } from '../../tools/simulated-device.ts';
import { ensureProduct, freeFormProduct, startTestRuntime, waitFor, waitForStatus } from '../support/runtime.ts';

// Requests signed by Huawei's own SDK core (its signer, both algorithms) against the local runtime.
const runtime = await startTestRuntime();
const project = runtime.project;
await ensureProduct(runtime, 'signed');
const key = await createAccessKey(runtime.deps, [project], 'sdk');
const other = await createAccessKey(runtime.deps, ['elsewhere'], 'other project');

type Algorithm = 'SDK-HMAC-SHA256' | 'V11-HMAC-SHA256';
const clientFor = (ak: string, sk: string, algorithm: Algorithm, projectId = project): HcClient => {
  const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId);
  // The SDK signs with the derived algorithm when its credentials' predicate says so (IoTDA's scope service is iotdm).
  if (algorithm === 'V11-HMAC-SHA256') {
    credentials.withDerivedPredicate(() => true);
    credentials.processDerivedAuthParams('iotdm', 'cn-north-4');
  }
  return new ClientBuilder<HcClient>((c: HcClient) => c)
    .withCredential(credentials)
    .withEndpoint(runtime.httpUrl)
    .build();
};

interface Call {
  method: string;
  url: string;
  pathParams?: Record<string, string>;
  queryParams?: Record<string, string>;
  data?: unknown;
  headers?: Record<string, string>;
}
/** One call through the SDK; its error, which carries the status and IoTDA's error body, as an answer too. */
const send = async (client: HcClient, call: Call): Promise<{ status: number; body: any }> => {
  try {
    const res: any = await client.sendRequest({
      contentType: call.data === undefined ? undefined : 'application/json',
      pathParams: { project_id: project, ...call.pathParams },
      queryParams: call.queryParams ?? {},
      headers: call.headers ?? {},
      ...call,
    } as any);
    return { status: res.httpStatusCode, body: res };
  } catch (e: any) {
    return { status: e.httpStatusCode ?? e.status, body: { error_code: e.errorCode, error_msg: e.errorMsg } };
  }
};

describe.each(['SDK-HMAC-SHA256', 'V11-HMAC-SHA256'] as Algorithm[])('signed with %s', (algorithm) => {
  const client = clientFor(key.tokenId, key.secretKey!, algorithm);
  const node = `n-${algorithm.slice(0, 3)}`;
  const name = `Vanne é/#1 & co ${algorithm}`;

  it('adds a device with a JSON body, finds it by a name that needs encoding, shows it', async () => {
    const added = await send(client, {
      method: 'POST',
      url: '/v5/iot/{project_id}/devices',
      data: { node_id: node, product_id: 'signed', device_name: name },
    });
    expect(added.status).toBe(201);
    const found = await send(client, {
      method: 'GET',
      url: '/v5/iot/{project_id}/devices',
      queryParams: { device_name: name, limit: '10' },
    });
    expect(found.status).toBe(200);
    expect(found.body.devices.map((d: any) => d.device_id)).toEqual([`signed_${node}`]);
    const shown = await send(client, {
      method: 'GET',
      url: '/v5/iot/{project_id}/devices/{device_id}',
      pathParams: { device_id: `signed_${node}` },
    });
    expect(shown.status).toBe(200);
    expect(shown.body.device_name).toBe(name);
  });

  it("accepts a path id that needs encoding: the answer is the route's own 404, not a 401", async () => {
    const res = await send(client, {
      method: 'GET',
      url: '/v5/iot/{project_id}/devices/{device_id}',
      pathParams: { device_id: 'no such é' },
    });
    expect(res.status).not.toBe(401);
    expect(res.body.error_code).not.toBe('IOTDA.000002');
  });

  it('refuses a key for another project with 403 IOTDA.000021', async () => {
    const res = await send(clientFor(other.tokenId, other.secretKey!, algorithm), {
      method: 'GET',
      url: '/v5/iot/{project_id}/devices',
    });
    expect(res).toMatchObject({ status: 403, body: { error_code: 'IOTDA.000021' } });
  });

  it('refuses a wrong SK, an unknown AK and a stale X-Sdk-Date with 401 IOTDA.000002', async () => {
    const stale = new Date(Date.now() - 16 * 60_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    for (const res of [
      await send(clientFor(key.tokenId, 'x'.repeat(40), algorithm), {
        method: 'GET',
        url: '/v5/iot/{project_id}/devices',
      }),
      await send(clientFor('UNKNOWNAK00000000000', key.secretKey!, algorithm), {
        method: 'GET',
        url: '/v5/iot/{project_id}/devices',
      }),
      await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices', headers: { 'X-Sdk-Date': stale } }),
    ])
      expect(res).toMatchObject({ status: 401, body: { error_code: 'IOTDA.000002' } });
  });
});

// Every HTTP route of the manifest, as `METHOD path`: the walk below must call each one.
const ROUTES = FUNCTIONS.flatMap((f) =>
  f.triggers.flatMap((t) => (t.kind === 'http' ? [`${t.method} ${t.path}`] : [])),
);
const API = '/v5/iot/{project_id}';

describe.each(['SDK-HMAC-SHA256', 'V11-HMAC-SHA256'] as Algorithm[])('every route, signed with %s', (algorithm) => {
  const client = clientFor(key.tokenId, key.secretKey!, algorithm);
  const tag = algorithm.slice(0, 3);
  const called = new Set<string>();
  /** One signed call that must get the route's own answer with this status. */
  const expectCall = async (status: number, method: string, url: string, call: Omit<Call, 'method' | 'url'> = {}) => {
    called.add(`${method} ${API}${url}`);
    const res = await send(client, { method, url: `${API}${url}`, ...call });
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };

  it('takes a product, a device, a batch task and a routing rule through every route, ids encoded', async () => {
    const productId = `signed-all-${tag}`;
    const nodeId = `node-${tag}`;
    const deviceId = `${productId}_${nodeId}`;
    const deviceName = `Pompe n°1 / ${tag} & co?`;
    const messageId = `msg-${tag}`;
    const product = { product_id: productId };
    const device = { device_id: deviceId };

    await expectCall(201, 'POST', '/products', { data: freeFormProduct(productId) });
    const products = await expectCall(200, 'GET', '/products', {
      queryParams: { product_name: productId, limit: '50' },
    });
    expect(products.products.map((p: any) => p.product_id)).toContain(productId);
    await expectCall(200, 'GET', '/products/{product_id}', { pathParams: product });
    expect(
      await expectCall(200, 'PUT', '/products/{product_id}', {
        pathParams: product,
        data: { description: 'Vanne é & 100% {x}' },
      }),
    ).toMatchObject({
      description: 'Vanne é & 100% {x}',
    });

    await expectCall(201, 'POST', '/devices', {
      data: { node_id: nodeId, product_id: productId, device_name: deviceName, auth_info: { secret: 'secret-1234' } },
    });
    const found = await expectCall(200, 'GET', '/devices', {
      queryParams: { device_name: deviceName, product_id: productId },
    });
    expect(found.devices.map((d: any) => d.device_id)).toEqual([deviceId]);
    expect(await expectCall(200, 'GET', '/devices/{device_id}', { pathParams: device })).toMatchObject({
      device_name: deviceName,
    });

    // An answering device, for the sync routes.
    const sim = await connectDevice({
      deviceId,
      secret: 'secret-1234',
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
    });
    try {
      await waitForStatus(runtime, deviceId, 'ONLINE');
      expect(
        await expectCall(200, 'POST', '/devices/{device_id}/commands', {
          pathParams: device,
          data: { command_name: 'open', paras: { note: 'é & #' } },
        }),
      ).toMatchObject({
        response: expect.anything(),
      });
      await expectCall(200, 'PUT', '/devices/{device_id}/properties', {
        pathParams: device,
        data: { services: [{ service_id: 'Valve', properties: { level: 3 } }] },
      });
      await expectCall(200, 'GET', '/devices/{device_id}/properties', {
        pathParams: device,
        queryParams: { service_id: 'Valve é' },
      });
      await expectCall(201, 'POST', '/devices/{device_id}/messages', {
        pathParams: device,
        data: { message_id: messageId, message: 'hello é & ?' },
      });
    } finally {
      await sim.close();
    }
    const messages = await expectCall(200, 'GET', '/devices/{device_id}/messages', { pathParams: device });
    expect(messages.messages.map((m: any) => m.message_id)).toContain(messageId);
    await expectCall(200, 'GET', '/devices/{device_id}/messages/{message_id}', {
      pathParams: { ...device, message_id: messageId },
    });

    // IoTDA's TaskPolicy fields and Downlink's additions, through the SDK and back.
    const policy = {
      retry_count: 1,
      retry_interval: 5,
      max_per_minute: 6000,
      abort_on_failure_percent: 50,
      abort_min_count: 2,
    };
    const task = await expectCall(201, 'POST', '/batchtasks', {
      data: {
        task_name: `signed_${tag}`,
        task_type: 'createMessages',
        targets: [deviceId],
        document: { message: 'to all é' },
        task_policy: policy,
      },
    });
    const taskPath = { task_id: task.task_id };
    const listed = await expectCall(200, 'GET', '/batchtasks', {
      queryParams: { task_type: 'createMessages', limit: '50' },
    });
    expect(listed.batchtasks.find((t: any) => t.task_id === task.task_id)).toMatchObject({
      targets: [deviceId],
      task_policy: policy,
    });
    // A kept message is accepted at once: the task ends Success, then stop and retry are refused as IoTDA refuses them.
    await waitFor(
      async () =>
        (await send(client, { method: 'GET', url: `${API}/batchtasks/{task_id}`, pathParams: taskPath })).body.batchtask
          ?.status === 'Success'
          ? true
          : undefined,
      'the task to succeed',
    );
    const shown = await expectCall(200, 'GET', '/batchtasks/{task_id}', {
      pathParams: taskPath,
      queryParams: { target: deviceId, task_detail_status: 'Success' },
    });
    expect(shown.task_details.map((d: any) => d.target)).toEqual([deviceId]);
    expect(shown.batchtask).toMatchObject({ targets: [deviceId], task_policy: policy });
    expect(
      (await expectCall(409, 'POST', '/batchtasks/{task_id}/stop', { pathParams: taskPath, data: {} })).error_code,
    ).toBe('DOWNLINK.409002');
    expect(
      (await expectCall(409, 'POST', '/batchtasks/{task_id}/retry', { pathParams: taskPath, data: {} })).error_code,
    ).toBe('DOWNLINK.409002');
    await expectCall(204, 'DELETE', '/batchtasks/{task_id}', { pathParams: taskPath });

    // Routing rules (CONTRACT.md §7), with a name, a condition and a URL that need encoding or escaping.
    const ruleName = `signed ${tag} é & 100%`;
    const rule = await expectCall(201, 'POST', '/routing-rule/rules', {
      data: {
        rule_name: ruleName,
        subject: { resource: 'device.status', event: 'update' },
        where: `notify_data.header.device_id = '${deviceId}' AND notify_data.body.status != 'é & #'`,
      },
    });
    const rulePath = { rule_id: rule.rule_id };
    const rules = await expectCall(200, 'GET', '/routing-rule/rules', {
      queryParams: { rule_name: ruleName, resource: 'device.status', limit: '50' },
    });
    expect(rules.rules.map((r: any) => r.rule_id)).toEqual([rule.rule_id]);
    await expectCall(200, 'GET', '/routing-rule/rules/{rule_id}', { pathParams: rulePath });
    expect(
      await expectCall(200, 'PUT', '/routing-rule/rules/{rule_id}', { pathParams: rulePath, data: { active: true } }),
    ).toMatchObject({ active: true });
    const action = await expectCall(201, 'POST', '/routing-rule/actions', {
      data: {
        rule_id: rule.rule_id,
        channel: 'HTTP_FORWARDING',
        channel_detail: { http_forwarding: { url: 'http://127.0.0.1:9000/push?to=é&n=1', token: 'abc123' } },
      },
    });
    const actionPath = { action_id: action.action_id };
    const actions = await expectCall(200, 'GET', '/routing-rule/actions', { queryParams: { rule_id: rule.rule_id } });
    expect(actions.actions.map((a: any) => a.action_id)).toEqual([action.action_id]);
    await expectCall(200, 'GET', '/routing-rule/actions/{action_id}', { pathParams: actionPath });
    await expectCall(200, 'PUT', '/routing-rule/actions/{action_id}', {
      pathParams: actionPath,
      data: { channel_detail: { http_forwarding: { url: 'http://127.0.0.1:9001/push' } } },
    });
    await expectCall(204, 'DELETE', '/routing-rule/actions/{action_id}', { pathParams: actionPath });
    await expectCall(204, 'DELETE', '/routing-rule/rules/{rule_id}', { pathParams: rulePath });

    await expectCall(204, 'DELETE', '/devices/{device_id}', { pathParams: device });
    await expectCall(204, 'DELETE', '/products/{product_id}', { pathParams: product });
    expect([...called].sort()).toEqual([...ROUTES].sort());
  });

  it.each(ROUTES.filter((r) => r.replace('{project_id}', '').includes('{')))(
    "%s: a path id that needs encoding gets the route's own answer, not an authentication error",
    async (route) => {
      const [method, url] = route.split(' ') as [string, string];
      const odd = 'n° 1 é&=+';
      const pathParams = {
        device_id: odd,
        product_id: odd,
        task_id: odd,
        message_id: odd,
        rule_id: odd,
        action_id: odd,
      };
      const data = method === 'POST' || method === 'PUT' ? {} : undefined;
      const res = await send(client, { method, url, pathParams, ...(data ? { data } : {}) });
      expect([400, 404]).toContain(res.status);
      expect(res.body.error_code).not.toBe('IOTDA.000002');
    },
  );
});

describe("the README's walkthrough step", () => {
  it('examples/huawei-sdk.mjs, the SDK client with only the endpoint and keys changed, shows a device and gets its command answered', async () => {
    const deviceId = 'signed_walk';
    const added = await fetch(`${runtime.httpUrl}/v5/iot/${project}/devices`, {
      method: 'POST',
      headers: { 'X-Auth-Token': runtime.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ node_id: 'walk', product_id: 'signed', auth_info: { secret: 'secret-1234' } }),
    });
    expect(added.status).toBe(201);
    const sim = await connectDevice({
      deviceId,
      secret: 'secret-1234',
      port: Number(new URL(runtime.mqttUrl).port),
      root: runtime.topicRoot,
    });
    try {
      await waitForStatus(runtime, deviceId, 'ONLINE');
      const { stdout } = await promisify(execFile)(process.execPath, ['examples/huawei-sdk.mjs', deviceId], {
        env: { ...process.env, ENDPOINT: runtime.httpUrl, PROJECT: project, AK: key.tokenId, SK: key.secretKey! },
      });
      expect(stdout).toBe(
        `200 ${deviceId} signed ONLINE\n200 {"result_code":0,"response_name":"open","paras":{"level":5}}\n`,
      );
    } finally {
      await sim.close();
    }
  });
});

describe('storage reads', () => {
  it("reads the key once per signed request (the authorizer's read; the middleware reuses it), as a token is read once", async () => {
    const fresh = await createAccessKey(runtime.deps, [project], 'counted');
    const tokens = runtime.deps.tokens;
    const getByHash = tokens.getByHash;
    let reads = 0;
    tokens.getByHash = (hash) => (reads++, getByHash.call(tokens, hash));
    try {
      for (const algorithm of ['SDK-HMAC-SHA256', 'V11-HMAC-SHA256', 'SDK-HMAC-SHA256'] as Algorithm[]) {
        reads = 0;
        expect(
          (
            await send(clientFor(fresh.tokenId, fresh.secretKey!, algorithm), {
              method: 'GET',
              url: '/v5/iot/{project_id}/devices',
            })
          ).status,
        ).toBe(200);
        expect(reads).toBe(1);
      }
      reads = 0;
      const res = await fetch(`${runtime.httpUrl}/v5/iot/${project}/devices`, {
        headers: { 'X-Auth-Token': runtime.token },
      });
      expect(res.status).toBe(200);
      expect(reads).toBe(1);
    } finally {
      tokens.getByHash = getByHash;
    }
  });
});

describe('a signed request changed in transit', () => {
  it('is refused when its body was altered after signing', async () => {
    const client = clientFor(key.tokenId, key.secretKey!, 'SDK-HMAC-SHA256');
    // The SDK's own request, signed; then the body is swapped before it is sent, as a man in the middle would.
    const inner = (client as any).httpClient;
    const original = inner.sendRequest.bind(inner);
    inner.sendRequest = (req: any) => original({ ...req, data: { ...req.data, node_id: 'tampered' } });
    const res = await send(client, {
      method: 'POST',
      url: '/v5/iot/{project_id}/devices',
      data: { node_id: 'honest', product_id: 'signed' },
    });
    expect(res).toMatchObject({ status: 401, body: { error_code: 'IOTDA.000002' } });
  });

  it('is refused once its key is revoked', async () => {
    const doomed = await createAccessKey(runtime.deps, [project], 'doomed');
    const client = clientFor(doomed.tokenId, doomed.secretKey!, 'V11-HMAC-SHA256');
    expect((await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices' })).status).toBe(200);
    expect(await revokeApiToken(runtime.deps, doomed.tokenId)).toBe(true);
    expect(await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices' })).toMatchObject({
      status: 401,
      body: { error_code: 'IOTDA.000002' },
    });
  });
});

describe('the AWS path: API Gateway-shaped events through the authorizer and the function middleware', async () => {
  const { AKSKSigner } = await import('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js');
  const { build: buildAuthorizer } = await import('../../functions/auth/api-authorizer.ts');
  const { apiHandler } = await import('../../shared/http/api-handler.ts');
  const authorizer = buildAuthorizer(runtime.deps);
  const handler = apiHandler(runtime.deps, async (req) => ({ status: 200, body: { seen: req.params.device_id } }));
  const credentials = new BasicCredentials().withAk(key.tokenId).withSk(key.secretKey!).withProjectId(project);
  const data = { command_name: 'open' };
  const headers = AKSKSigner.sign(
    {
      method: 'POST',
      endpoint: `https://gw.example/v5/iot/${project}/devices/dev%3A1/commands`,
      headers: { 'X-Project-Id': project, 'content-type': 'application/json', host: 'gw.example' },
      queryParams: { note: 'a b/é' },
      data,
    } as any,
    credentials as any,
  ) as Record<string, string>;
  const event = (path: string, body: string) =>
    ({
      resource: '/v5/iot/{project_id}/devices/{device_id}/commands',
      path,
      httpMethod: 'POST',
      headers,
      queryStringParameters: { note: 'a b/é' },
      multiValueQueryStringParameters: { note: ['a b/é'] },
      pathParameters: { project_id: project, device_id: 'dev:1' },
      body,
      isBase64Encoded: false,
      requestContext: { requestId: 'r-1' },
    }) as any;

  it('the authorizer allows the signed request without its body', async () => {
    const policy = await authorizer({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:r:1:a/prod/POST/v5/iot/${project}/devices/dev:1/commands`,
      headers,
    } as any);
    expect(policy.policyDocument.Statement[0]!.Effect).toBe('Allow');
  });

  it.each(ROUTES.flatMap((r) => [[r, false] as const, [r, true] as const]))(
    '%s (derived: %s): the authorizer allows and the middleware verifies it',
    async (route, derived) => {
      const { DerivedAKSKSigner } = await import('@huaweicloud/huaweicloud-sdk-core/auth/DerivedAKSKSigner.js');
      const [method, resource] = route.split(' ') as [string, string];
      const params: Record<string, string> = {
        project_id: project,
        device_id: 'dev:1 é',
        product_id: 'p+1',
        task_id: 'task é',
        message_id: 'm&1',
        rule_id: 'r é',
        action_id: 'a+1',
      };
      const fill = (encode: (s: string) => string) =>
        resource.replace(/\{(\w+)\}/g, (_, n: string) => encode(params[n]!));
      const body = method === 'POST' || method === 'PUT' ? JSON.stringify({ note: 'é & 100%' }) : '';
      const creds = new BasicCredentials().withAk(key.tokenId).withSk(key.secretKey!).withProjectId(project);
      if (derived) creds.processDerivedAuthParams('iotdm', 'eu-west-1');
      const signedHeaders = (derived ? DerivedAKSKSigner : AKSKSigner).sign(
        {
          method,
          endpoint: `https://gw.example${fill(encodeURIComponent)}`,
          headers: { 'X-Project-Id': project, ...(body ? { 'content-type': 'application/json' } : {}) },
          queryParams: method === 'GET' ? { device_name: 'a b/é&c', limit: '10' } : {},
          ...(body ? { data: JSON.parse(body) } : {}),
        } as any,
        creds as any,
      ) as Record<string, string>;
      const policy = await authorizer({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:r:1:a/prod/${method}${fill((v) => v)}`,
        headers: signedHeaders,
      } as any);
      expect(policy.policyDocument.Statement[0]!.Effect).toBe('Allow');
      const query = method === 'GET' ? { device_name: 'a b/é&c', limit: '10' } : null;
      const seen = apiHandler(runtime.deps, async (req) => ({ status: 200, body: req.params }));
      for (const path of [fill(encodeURIComponent), fill((v) => v)]) {
        const res = await seen(
          {
            resource,
            path,
            httpMethod: method,
            headers: signedHeaders,
            queryStringParameters: query,
            multiValueQueryStringParameters:
              query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
            pathParameters: Object.fromEntries(
              Object.keys(params)
                .filter((n) => resource.includes(`{${n}}`))
                .map((n) => [n, params[n]!]),
            ),
            body: body || null,
            isBase64Encoded: false,
            requestContext: { requestId: 'r-2' },
          } as any,
          lambdaContext('create-command'),
        );
        expect(res.statusCode, `${path}: ${res.body}`).toBe(200);
      }
    },
  );

  it('the middleware accepts the path however API Gateway encoded it, and refuses an altered body', async () => {
    for (const path of [`/v5/iot/${project}/devices/dev%3A1/commands`, `/v5/iot/${project}/devices/dev:1/commands`]) {
      const res = await handler(event(path, JSON.stringify(data)), lambdaContext('create-command'));
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ seen: 'dev:1' });
    }
    const altered = await handler(
      event(`/v5/iot/${project}/devices/dev:1/commands`, JSON.stringify({ command_name: 'shut' })),
      lambdaContext('create-command'),
    );
    expect(altered.statusCode).toBe(401);
    expect(JSON.parse(altered.body).error_code).toBe('IOTDA.000002');
  });
});
