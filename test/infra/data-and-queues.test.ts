import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../functions/manifest.ts';
import type { Operations } from '../../infra/constructs/operations.ts';
import { TABLE } from '../../shared/table.ts';
import { logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();

describe('data', () => {
  it('keeps everything in one on-demand table with the shared keys, indexes and TTL', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE.sortKey, AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: TABLE.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it('outputs the table name and the notification queue URL and ARN', () => {
    const table = Object.keys(resources(template, 'AWS::DynamoDB::Table'))[0]!;
    template.hasOutput('TableName', { Value: { Ref: table } });
    const queue = logicalId(stack.node.findChild('Queues').node.findChild('notifications'));
    template.hasOutput('NotificationQueueUrl', { Value: { Ref: queue } });
    template.hasOutput('NotificationQueueArn', { Value: { 'Fn::GetAtt': [queue, 'Arn'] } });
  });
});

describe('queues', () => {
  it('outputs the push-delivery queue and its dead-letter queue, for push-dlq and the console redrive', () => {
    const queues = stack.node.findChild('Queues').node;
    template.hasOutput('PushDeliveryQueueUrl', { Value: { Ref: logicalId(queues.findChild('push-delivery')) } });
    template.hasOutput('PushDeadLetterQueueUrl', { Value: { Ref: logicalId(queues.findChild('push-delivery-dlq')) } });
  });

  it.each(Object.entries(QUEUES))('gives the %s queue a dead-letter queue after its receive count', (name, def) => {
    const queues = stack.node.findChild('Queues').node;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: def.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(queues.findChild(`${name}-dlq`)), 'Arn'] },
        maxReceiveCount: def.maxReceiveCount,
      },
    });
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    const queues = resources(template, 'AWS::SQS::Queue');
    // Each manifest queue and its DLQ, and the failure queue of each asynchronously invoked function.
    const failureQueues = (stack.node.findChild('Operations') as Operations).failures.size;
    expect(Object.keys(queues)).toHaveLength(2 * Object.keys(QUEUES).length + failureQueues);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});
