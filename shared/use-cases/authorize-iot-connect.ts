import { accountOfFunction, deviceIotPolicy } from '../domain/device-policy.ts';
import { sha256Hex } from '../ids.ts';
import type { Deps } from '../ports/deps.ts';
import { authenticateDevice, type AuthenticateDeviceDeps } from './authenticate-device.ts';

/** The ports this use case uses. */
export type AuthorizeIotConnectDeps = Pick<Deps, 'config'> & AuthenticateDeviceDeps;

/** The parts of an AWS IoT custom authorizer event that MQTT username/password sign-in carries. */
export interface IotAuthorizerEvent {
  protocolData?: { mqtt?: { username?: string; password?: string; clientId?: string } };
}

export interface IotAuthorizerResult {
  isAuthenticated: boolean;
  principalId: string;
  disconnectAfterInSeconds: number;
  refreshAfterInSeconds: number;
  policyDocuments: string[];
}

/** IoT Core custom authorizer: the Huawei scheme, and a policy limited to the device's own topics. */
export const authorizeIotConnect = async (
  deps: AuthorizeIotConnectDeps,
  event: IotAuthorizerEvent,
  functionArn: string,
): Promise<IotAuthorizerResult> => {
  const mqtt = event.protocolData?.mqtt ?? {};
  const clientId = mqtt.clientId ?? '';
  // IoT Core hands the MQTT password to the authorizer base64-encoded.
  const password = mqtt.password === undefined ? undefined : Buffer.from(mqtt.password, 'base64').toString('utf8');
  const verdict = await authenticateDevice(deps, { clientId, username: mqtt.username, password });
  // principalId must be alphanumeric, which device ids are not always.
  const principalId = sha256Hex(clientId).slice(0, 32);
  if (!verdict.ok)
    return {
      isAuthenticated: false,
      principalId,
      disconnectAfterInSeconds: 300,
      refreshAfterInSeconds: 300,
      policyDocuments: [],
    };
  const policy = deviceIotPolicy({
    ...accountOfFunction(functionArn),
    root: deps.config.topicRoot,
    deviceId: verdict.deviceId,
    clientId,
  });
  return {
    isAuthenticated: true,
    principalId,
    // IoT Core refreshes by re-running this check with the connect's own credentials, which a sign-type-1
    // timestamp (±1 h) fails after an hour or two, disconnecting a healthy device. So no refresh is ever due:
    // the connection ends at IoT Core's longest (24 h) and the device reconnects, signing afresh; a deleted
    // device is cut off by DeleteDevice's disconnect, not by a refresh.
    disconnectAfterInSeconds: 86_400,
    refreshAfterInSeconds: 86_400,
    policyDocuments: [JSON.stringify(policy)],
  };
};
