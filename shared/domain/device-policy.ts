import type { TopicRoot } from './topics.ts';

/**
 * The IoT Core policy a connected device gets from the custom authorizer: connect as its own client id,
 * publish, receive and subscribe only under `{root}/devices/{device_id}/` (CONTRACT.md §2).
 */
export const deviceIotPolicy = (input: { region: string; account: string; root: TopicRoot; deviceId: string; clientId: string }) => {
  const arn = (type: string, rest: string) => `arn:aws:iot:${input.region}:${input.account}:${type}/${rest}`;
  const own = `${input.root}/devices/${input.deviceId}/*`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', input.clientId) },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', own) },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', own) },
    ],
  };
};
