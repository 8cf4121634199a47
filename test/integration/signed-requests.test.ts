import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { describe, expect, it } from 'vitest';
import { createAccessKey, revokeApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { ensureProduct, startTestRuntime } from '../support/runtime.ts';

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
  return new ClientBuilder<HcClient>((c: HcClient) => c).withCredential(credentials).withEndpoint(runtime.httpUrl).build();
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
    const found = await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices', queryParams: { device_name: name, limit: '10' } });
    expect(found.status).toBe(200);
    expect(found.body.devices.map((d: any) => d.device_id)).toEqual([`signed_${node}`]);
    const shown = await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices/{device_id}', pathParams: { device_id: `signed_${node}` } });
    expect(shown.status).toBe(200);
    expect(shown.body.device_name).toBe(name);
  });

  it('accepts a path id that needs encoding: the answer is the route\'s own 404, not a 401', async () => {
    const res = await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices/{device_id}', pathParams: { device_id: 'no such é' } });
    expect(res.status).not.toBe(401);
    expect(res.body.error_code).not.toBe('IOTDA.000002');
  });

  it('refuses a key for another project with 403 IOTDA.000021', async () => {
    const res = await send(clientFor(other.tokenId, other.secretKey!, algorithm), { method: 'GET', url: '/v5/iot/{project_id}/devices' });
    expect(res).toMatchObject({ status: 403, body: { error_code: 'IOTDA.000021' } });
  });

  it('refuses a wrong SK, an unknown AK and a stale X-Sdk-Date with 401 IOTDA.000002', async () => {
    const stale = new Date(Date.now() - 16 * 60_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (const res of [
      await send(clientFor(key.tokenId, 'x'.repeat(40), algorithm), { method: 'GET', url: '/v5/iot/{project_id}/devices' }),
      await send(clientFor('UNKNOWNAK00000000000', key.secretKey!, algorithm), { method: 'GET', url: '/v5/iot/{project_id}/devices' }),
      await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices', headers: { 'X-Sdk-Date': stale } }),
    ])
      expect(res).toMatchObject({ status: 401, body: { error_code: 'IOTDA.000002' } });
  });
});

describe('a signed request changed in transit', () => {
  it('is refused when its body was altered after signing', async () => {
    const client = clientFor(key.tokenId, key.secretKey!, 'SDK-HMAC-SHA256');
    // The SDK's own request, signed; then the body is swapped before it is sent, as a man in the middle would.
    const inner = (client as any).httpClient;
    const original = inner.sendRequest.bind(inner);
    inner.sendRequest = (req: any) => original({ ...req, data: { ...req.data, node_id: 'tampered' } });
    const res = await send(client, { method: 'POST', url: '/v5/iot/{project_id}/devices', data: { node_id: 'honest', product_id: 'signed' } });
    expect(res).toMatchObject({ status: 401, body: { error_code: 'IOTDA.000002' } });
  });

  it('is refused once its key is revoked', async () => {
    const doomed = await createAccessKey(runtime.deps, [project], 'doomed');
    const client = clientFor(doomed.tokenId, doomed.secretKey!, 'V11-HMAC-SHA256');
    expect((await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices' })).status).toBe(200);
    expect(await revokeApiToken(runtime.deps, doomed.tokenId)).toBe(true);
    expect(await send(client, { method: 'GET', url: '/v5/iot/{project_id}/devices' })).toMatchObject({ status: 401, body: { error_code: 'IOTDA.000002' } });
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
    const policy = await authorizer({ type: 'REQUEST', methodArn: `arn:aws:execute-api:r:1:a/prod/POST/v5/iot/${project}/devices/dev:1/commands`, headers } as any);
    expect(policy.policyDocument.Statement[0]!.Effect).toBe('Allow');
  });

  it('the middleware accepts the path however API Gateway encoded it, and refuses an altered body', async () => {
    for (const path of [`/v5/iot/${project}/devices/dev%3A1/commands`, `/v5/iot/${project}/devices/dev:1/commands`]) {
      const res = await handler(event(path, JSON.stringify(data)), {} as any);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ seen: 'dev:1' });
    }
    const altered = await handler(event(`/v5/iot/${project}/devices/dev:1/commands`, JSON.stringify({ command_name: 'shut' })), {} as any);
    expect(altered.statusCode).toBe(401);
    expect(JSON.parse(altered.body).error_code).toBe('IOTDA.000002');
  });
});
