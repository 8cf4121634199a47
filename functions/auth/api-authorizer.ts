import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import type { Deps } from '../../shared/deps.ts';
import { authorizeApiToken } from '../../shared/use-cases/authorize-api-token.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => (event: APIGatewayTokenAuthorizerEvent) =>
  authorizeApiToken(deps, event.authorizationToken, event.methodArn);

export const handler = lambda(build);
