import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import type { Deps } from '../../shared/ports/deps.ts';
import { authorizeApiToken, authorizeSignedRequest } from '../../shared/use-cases/authorize-api-token.ts';
import { lambda } from '../deps.ts';

const lowerCased = (headers: Record<string, string | undefined> | null): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']));

/** A token when one is sent (CONTRACT.md §6: it wins over a signature), else an AK/SK signature. */
export const build = (deps: Deps) => (event: APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent) => {
  if (event.type === 'TOKEN') return authorizeApiToken(deps, event.authorizationToken, event.methodArn);
  const headers = lowerCased(event.headers);
  if (headers['x-auth-token']) return authorizeApiToken(deps, headers['x-auth-token'], event.methodArn);
  return authorizeSignedRequest(deps, headers, event.methodArn);
};

export const handler = lambda(build);
