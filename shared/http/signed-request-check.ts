import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Deps } from '../ports/deps.ts';
import { parseAuthorization, sdkEncode, verifySignature, type SignedRequestParts } from '../domain/signed-requests.ts';
import { errors } from '../errors.ts';
import { accessKeyRecord, secretKeyRead } from '../use-cases/authorize-api-token.ts';

/**
 * Node's legacy url.parse, which the SDK core signs with, escapes only these characters of a path and
 * keeps the rest (non-ASCII included) as the caller wrote it, while the wire carries them percent-encoded.
 */
const legacyEscape = (s: string): string =>
  s.replace(/[\t\n\r "'<>`{}|^]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * The paths the client may have signed: the one the function sees, and the route's template filled with
 * the decoded parameters, fully encoded or escaped as the SDK core's url.parse does (API Gateway may hand
 * the function either form, and the core signs non-ASCII ids unencoded).
 */
const candidatePaths = (event: APIGatewayProxyEvent): string[] => {
  const params = event.pathParameters ?? {};
  const fill = (encode: (s: string) => string) =>
    (event.resource ?? '').replace(/\{([^}+]+)\+?\}/g, (_, name: string) => encode(params[name] ?? ''));
  return [...new Set([event.path, fill(sdkEncode), fill(legacyEscape)].filter(Boolean))];
};

const queryOf = (event: APIGatewayProxyEvent): Record<string, string[]> =>
  (event.multiValueQueryStringParameters as Record<string, string[]> | null) ??
  Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, [v ?? '']]));

/**
 * The key's grants and SK. When API Gateway's authorizer vouched for this AK (its principal, in the request
 * context no client can write), it read the key for this request, fresh: its grants come from there, and the
 * SK, which never changes for an AK, from what this runtime read before. Otherwise (the first request of a
 * function instance on AWS, a direct invocation) the key is read here, once.
 */
const keyOf = async (
  deps: Pick<Deps, 'tokens'>,
  event: APIGatewayProxyEvent,
  accessKey: string,
): Promise<{ projects: string[]; secretKey: string } | undefined> => {
  const vouched = event.requestContext?.authorizer as { principalId?: string; projects?: string } | null | undefined;
  const secretKey =
    vouched?.principalId === accessKey && typeof vouched.projects === 'string'
      ? secretKeyRead(deps, accessKey)
      : undefined;
  if (secretKey) return { projects: vouched!.projects!.split(','), secretKey };
  return accessKeyRecord(deps, accessKey);
};

/**
 * The whole AK/SK signature, body included, before any use case runs (CONTRACT.md §6): the authorizer
 * could not see the body. A request with a token was authenticated by it alone and is left as is.
 */
export const signedRequestCheck = (
  deps: Pick<Deps, 'tokens' | 'clock'>,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: async ({ event }) => {
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']));
    // A token, or no signature at all (the authorizer let nothing else through), is not this check's business.
    if (headers['x-auth-token'] || !/^\s*(SDK|V11)-HMAC-SHA256 /.test(headers.authorization ?? '')) return;
    const auth = parseAuthorization(headers.authorization);
    if (!auth) throw errors.unauthenticated();
    const key = await keyOf(deps, event, auth.accessKey);
    if (!key) throw errors.unauthenticated();
    const project = event.pathParameters?.project_id ?? '';
    if (!key.projects.includes(project) || (headers['x-project-id'] && headers['x-project-id'] !== project))
      throw errors.forbiddenProject();
    const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const now = deps.clock.now();
    const ok = candidatePaths(event).some((path) => {
      const parts: SignedRequestParts = { method: event.httpMethod, path, query: queryOf(event), headers, body };
      return verifySignature(auth, parts, key.secretKey, now).ok;
    });
    if (!ok) throw errors.unauthenticated();
  },
});
