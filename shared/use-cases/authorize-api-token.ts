import { hashToken, policyForToken, type ApiPolicy, type ApiTokenRecord } from '../domain/api-tokens.ts';
import { checkFreshness, parseAuthorization } from '../domain/signed-requests.ts';
import type { Deps } from '../deps.ts';

/** Thrown to make API Gateway answer 401 (its TOKEN authorizer contract: the message must be exactly this). */
export class UnauthorizedError extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'UnauthorizedError';
  }
}

/**
 * TOKEN authorizer (CONTRACT.md §1): an unknown token is 401; a known one gets a policy for its projects,
 * so a call on any other project is denied by the gateway with 403.
 */
export const authorizeApiToken = async (deps: Deps, token: string | undefined, methodArn: string): Promise<ApiPolicy> => {
  if (!token) throw new UnauthorizedError();
  const record = await deps.tokens.getByHash(hashToken(token));
  if (!record) throw new UnauthorizedError();
  return policyForToken(record, methodArn);
};

/** The project a method ARN's path names (`.../{METHOD}/v5/iot/{project}/...`). */
const projectOfArn = (methodArn: string): string | undefined => /\/v5\/iot\/([^/]+)\//.exec(methodArn)?.[1];

/**
 * A request signed with an access key (CONTRACT.md §6), as far as the gateway can check it without the
 * body: a known AK, a fresh X-Sdk-Date, and an X-Project-Id (when sent) naming the path's project. The
 * function's middleware checks the signature itself; this answer must never be cached per signature.
 */
export const authorizeSignedRequest = async (
  deps: Pick<Deps, 'tokens' | 'clock'>,
  headers: Record<string, string>,
  methodArn: string,
): Promise<ApiPolicy> => {
  const auth = parseAuthorization(headers.authorization);
  if (!auth || !checkFreshness(headers, deps.clock.now())) throw new UnauthorizedError();
  const record = await accessKeyRecord(deps, auth.accessKey);
  if (!record) throw new UnauthorizedError();
  const projectHeader = headers['x-project-id'];
  const policy = policyForToken(record, methodArn);
  // An X-Project-Id other than the path's: the policy then grants nothing, so the gateway answers 403.
  if (projectHeader && projectHeader !== projectOfArn(methodArn)) policy.policyDocument.Statement[0]!.Effect = 'Deny';
  return policy;
};

export const accessKeyRecord = async (deps: Pick<Deps, 'tokens'>, accessKey: string): Promise<ApiTokenRecord | undefined> => {
  const record = await deps.tokens.getByHash(hashToken(accessKey));
  return record?.secretKey ? record : undefined;
};
