import type { Context } from 'aws-lambda';
import type { Deps } from '../../shared/ports/deps.ts';
import { authorizeIotConnect, type IotAuthorizerEvent } from '../../shared/use-cases/authorize-iot-connect.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => (event: IotAuthorizerEvent, context: Context) =>
  authorizeIotConnect(deps, event, context.invokedFunctionArn);

export const handler = lambda(build);
