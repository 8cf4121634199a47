import type { Context } from 'aws-lambda';
import { accountOfFunction, iotArn } from '../shared/domain/device-policy.ts';
import type { IotAuthorizerEvent, IotAuthorizerResult } from '../shared/use-cases/authorize-iot-connect.ts';
import { iotPermissions, type IotAction } from './iot-policy.ts';
import { lambdaContext } from './lambda-context.ts';

export interface MqttSignIn {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
}

/**
 * What a signed-in connection may do: `resource` without the ARN's head (`client/…`, `topic/…`,
 * `topicfilter/…`).
 */
export type ConnectionGrant = (action: IotAction, resource: string) => boolean;

/**
 * Device sign-in as IoT Core does it with a custom authorizer: the manifest's device-authorizer function gets
 * the CONNECT's credentials (the password base64-encoded, as IoT Core hands it over) and answers with policy
 * documents, which then decide everything the connection may do. Undefined: refused.
 */
export const signInThroughAuthorizer =
  (authorizer: (event: IotAuthorizerEvent, context: Context) => Promise<IotAuthorizerResult>) =>
  async (attempt: MqttSignIn): Promise<ConnectionGrant | undefined> => {
    const event: IotAuthorizerEvent = {
      protocolData: {
        mqtt: {
          clientId: attempt.clientId,
          username: attempt.username,
          password: attempt.password?.toString('base64'),
        },
      },
    };
    const context = lambdaContext('device-authorizer');
    const result = await authorizer(event, context);
    if (!result.isAuthenticated) return undefined;
    const allows = iotPermissions(result.policyDocuments);
    // The IoT resources of the account and region the function runs in, as on AWS.
    const where = accountOfFunction(context.invokedFunctionArn);
    return (action, resource) => allows(action, iotArn(where, resource));
  };
