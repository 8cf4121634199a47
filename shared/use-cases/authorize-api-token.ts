import { hashToken, policyForToken, type ApiPolicy } from '../domain/api-tokens.ts';
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
