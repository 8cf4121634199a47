import type { TopicRoot } from './topics.ts';

/**
 * The IoT Core policy a connected device gets from the custom authorizer: connect as its own client id,
 * publish, receive and subscribe only under `{root}/devices/{device_id}/` (CONTRACT.md §2). The partition is the
 * authorizer's own (aws, aws-cn, aws-us-gov): a policy naming another one matches nothing and refuses everything.
 */
export interface IotAccount {
  partition: string;
  region: string;
  account: string;
}

/** The partition, region and account a function runs in, read off its own ARN. */
export const accountOfFunction = (functionArn: string): IotAccount => {
  const [, partition = 'aws', , region = '', account = ''] = functionArn.split(':');
  return { partition, region, account };
};

/** An IoT resource's ARN: `resource` is `client/…`, `topic/…` or `topicfilter/…`. */
export const iotArn = (where: IotAccount, resource: string) =>
  `arn:${where.partition}:iot:${where.region}:${where.account}:${resource}`;

export const deviceIotPolicy = (input: IotAccount & { root: TopicRoot; deviceId: string; clientId: string }) => {
  const arn = (type: string, rest: string) => iotArn(input, `${type}/${rest}`);
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
