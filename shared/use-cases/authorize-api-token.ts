import { hashToken, policyForToken, type ApiPolicy, type ApiTokenRecord } from '../domain/api-tokens.ts';
import { checkFreshness, parseAuthorization } from '../domain/signed-requests.ts';
import type { Deps } from '../ports/deps.ts';

/** The ports this use case uses. */
export type AuthorizeApiTokenDeps = Pick<Deps, 'clock' | 'tokens'>;

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
export const authorizeApiToken = async (
  deps: AuthorizeApiTokenDeps,
  token: string | undefined,
  methodArn: string,
): Promise<ApiPolicy> => {
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

/**
 * The SKs this runtime has read, by AK, per token store (a test process runs several runtimes). An AK's SK
 * never changes (a key is made once, then only revoked), so the function's middleware may take it from here
 * when the authorizer has just read the key, fresh, for this very request: one storage read per signed
 * request (locally the authorizer and the functions share a process; on AWS, once the function has seen the key).
 */
const KEPT_SECRETS = 10_000;
const secretsRead = new WeakMap<object, Map<string, string>>();

const remember = (deps: Pick<Deps, 'tokens'>, record: ApiTokenRecord & { secretKey: string }) => {
  let secrets = secretsRead.get(deps.tokens);
  if (!secrets) secretsRead.set(deps.tokens, (secrets = new Map()));
  if (secrets.size >= KEPT_SECRETS) secrets.delete(secrets.keys().next().value!);
  secrets.set(record.tokenId, record.secretKey);
};

/** The SK of a key this runtime has read before; never a sign that the key is still valid. */
export const secretKeyRead = (deps: Pick<Deps, 'tokens'>, accessKey: string): string | undefined =>
  secretsRead.get(deps.tokens)?.get(accessKey);

export const accessKeyRecord = async (
  deps: Pick<Deps, 'tokens'>,
  accessKey: string,
): Promise<(ApiTokenRecord & { secretKey: string }) | undefined> => {
  const record = await deps.tokens.getByHash(hashToken(accessKey));
  if (!record?.secretKey || record.tokenId !== accessKey) return undefined;
  const key = record as ApiTokenRecord & { secretKey: string };
  remember(deps, key);
  return key;
};
