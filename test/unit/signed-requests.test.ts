import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { DerivedAKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/DerivedAKSKSigner.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { describe, expect, it } from 'vitest';
import {
  parseAuthorization,
  parseSdkDate,
  verifySignature,
  type SignedRequestParts,
} from '../../shared/domain/signed-requests.ts';
import { authorizeSignedRequest } from '../../shared/use-cases/authorize-api-token.ts';
import { hashToken, type ApiTokenRecord } from '../../shared/domain/api-tokens.ts';

// Fixed inputs, signed by Huawei's SDK core's own signers; our verifier must agree with them.
const AK = 'HPUAFIXEDACCESSKEY01';
const SK = 'FixedSecretKeyFixedSecretKeyFixedSecret1';
const DATE = '20260102T030405Z';
const NOW = parseSdkDate(DATE)!;
const body = { command_name: 'open', paras: { level: 'é & 100%' } };

const credentials = (derived: boolean) => {
  const c = new BasicCredentials().withAk(AK).withSk(SK).withProjectId('proj');
  if (derived) c.processDerivedAuthParams('iotdm', 'cn-north-4');
  return c;
};

const signed = (derived: boolean): SignedRequestParts => {
  const request = {
    method: 'POST',
    endpoint: 'http://127.0.0.1:8080/v5/iot/proj/devices/dev%201/commands',
    headers: { 'X-Sdk-Date': DATE, 'X-Project-Id': 'proj', 'content-type': 'application/json' },
    queryParams: { b: 'x y', a: ['2', '1'] },
    data: body,
  };
  const headers = (derived ? DerivedAKSKSigner : AKSKSigner).sign(
    request as any,
    credentials(derived) as any,
  ) as Record<string, string>;
  return {
    method: 'POST',
    path: '/v5/iot/proj/devices/dev%201/commands',
    query: { b: ['x y'], a: ['1', '2'] },
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: JSON.stringify(body),
  };
};

describe.each([false, true])('the SDK core signature (derived: %s)', (derived) => {
  const req = signed(derived);
  const auth = parseAuthorization(req.headers.authorization)!;

  it('parses and verifies', () => {
    expect(auth).toMatchObject({ algorithm: derived ? 'V11-HMAC-SHA256' : 'SDK-HMAC-SHA256', accessKey: AK });
    if (derived) expect(auth.scope).toBe('20260102/cn-north-4/iotdm');
    expect(verifySignature(auth, req, SK, NOW)).toEqual({ ok: true });
    expect(verifySignature(auth, req, SK, NOW + 14 * 60_000)).toEqual({ ok: true });
  });

  it('refuses an expired date, an altered body, a wrong key, another path or query', () => {
    expect(verifySignature(auth, req, SK, NOW + 16 * 60_000).ok).toBe(false);
    expect(verifySignature(auth, req, SK, NOW - 16 * 60_000).ok).toBe(false);
    expect(verifySignature(auth, { ...req, body: req.body.replace('open', 'shut') }, SK, NOW).ok).toBe(false);
    expect(verifySignature(auth, req, `${SK}x`, NOW).ok).toBe(false);
    expect(verifySignature(auth, { ...req, path: '/v5/iot/proj/devices/dev%202/commands' }, SK, NOW).ok).toBe(false);
    expect(verifySignature(auth, { ...req, query: { ...req.query, b: ['x z'] } }, SK, NOW).ok).toBe(false);
  });
});

describe('UNSIGNED-PAYLOAD', () => {
  it('verifies a request whose body the SDK core left unsigned through X-Sdk-Content-Sha256, and refuses another declared hash', () => {
    for (const derived of [false, true]) {
      const request = {
        method: 'PUT',
        endpoint: 'http://127.0.0.1:8080/v5/iot/proj/devices/d/properties',
        headers: { 'X-Sdk-Date': DATE, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/json' },
        queryParams: {},
        data: body,
      };
      const headers = (derived ? DerivedAKSKSigner : AKSKSigner).sign(
        request as any,
        credentials(derived) as any,
      ) as Record<string, string>;
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const req: SignedRequestParts = {
        method: 'PUT',
        path: '/v5/iot/proj/devices/d/properties',
        query: {},
        headers: lower,
        body: '{"any":"body"}',
      };
      const auth = parseAuthorization(lower.authorization)!;
      expect(auth.signedHeaders).toContain('x-sdk-content-sha256');
      expect(verifySignature(auth, req, SK, NOW)).toEqual({ ok: true });
      // A declared hash other than UNSIGNED-PAYLOAD must be the body's.
      const declared = { ...lower, 'x-sdk-content-sha256': 'a'.repeat(64) };
      expect(verifySignature(auth, { ...req, headers: declared }, SK, NOW).ok).toBe(false);
    }
  });
});

describe('the authorizer for signed requests', () => {
  const record: ApiTokenRecord = {
    tokenId: AK,
    tokenHash: hashToken(AK),
    projects: ['proj'],
    createdAt: 0,
    secretKey: SK,
  };
  const deps = {
    tokens: { getByHash: async (h: string) => (h === record.tokenHash ? record : undefined) },
    clock: { now: () => NOW },
  } as any;
  const arn = (project: string) => `arn:aws:execute-api:r:1:api/prod/POST/v5/iot/${project}/devices/x/commands`;
  const headers = signed(false).headers;

  it('allows a known AK with a fresh date for its projects only', async () => {
    const policy = await authorizeSignedRequest(deps, headers, arn('proj'));
    expect(policy.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: ['arn:aws:execute-api:r:1:api/prod/*/v5/iot/proj/*'],
    });
  });

  it('refuses an unknown AK or a stale date, and denies an X-Project-Id other than the path', async () => {
    const unknown = { ...headers, authorization: headers.authorization!.replace(AK, 'HPUAUNKNOWNACCESSKEY') };
    await expect(authorizeSignedRequest(deps, unknown, arn('proj'))).rejects.toThrow('Unauthorized');
    await expect(
      authorizeSignedRequest({ ...deps, clock: { now: () => NOW + 16 * 60_000 } }, headers, arn('proj')),
    ).rejects.toThrow('Unauthorized');
    const other = await authorizeSignedRequest(deps, headers, arn('other'));
    expect(other.policyDocument.Statement[0]!.Effect).toBe('Deny');
  });
});
