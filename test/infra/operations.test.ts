import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, IOT_RULES, QUEUES } from '../../functions/manifest.ts';
import { DownlinkStack } from '../../infra/stack.ts';
import { functionIds, logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const topicId = logicalId(stack.node.findChild('Operations').node.findChild('AlarmTopic'));

/** The functions AWS invokes asynchronously, read from the manifest itself: schedules and IoT rule actions. */
const asynchronous = [
  ...new Set([
    ...FUNCTIONS.filter((f) => f.triggers.some((t) => t.kind === 'schedule')).map((f) => f.name),
    ...IOT_RULES.flatMap((r) => ('function' in r.target ? [r.target.function] : [])),
  ]),
];

const alarms = Object.values(resources(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const queueIdOf = (arn: unknown) => (arn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

describe('failed asynchronous invocations', () => {
  const configs = Object.values(resources(template, 'AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties);

  it('covers the response rule function and both sweepers', () => {
    expect(asynchronous.sort()).toEqual(['batch-sweeper', 'device-response', 'message-sweeper']);
  });

  it.each(asynchronous)('sends what %s failed after two retries to its own encrypted failure queue', (name) => {
    const config = configs.find(
      (c) => JSON.stringify(c.FunctionName) === JSON.stringify({ Ref: functionIds(stack, name).fn }),
    );
    expect(config).toMatchObject({ MaximumRetryAttempts: 2, Qualifier: '$LATEST' });
    const queue = resources(template, 'AWS::SQS::Queue')[queueIdOf(config!.DestinationConfig.OnFailure.Destination)]!;
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    // The function's role may send to it (Lambda sends the failure record as the function).
    const sends = Object.values(resources(template, 'AWS::IAM::Policy')).some(
      (p) =>
        JSON.stringify(p.Properties.Roles).includes(functionIds(stack, name).role) &&
        JSON.stringify(p.Properties.PolicyDocument).includes('sqs:SendMessage') &&
        JSON.stringify(p.Properties.PolicyDocument).includes(
          queueIdOf(config!.DestinationConfig.OnFailure.Destination),
        ),
    );
    expect(sends).toBe(true);
  });

  it('configures no other function for asynchronous failures', () => {
    expect(configs).toHaveLength(asynchronous.length);
  });

  it("keeps a schedule's event that EventBridge could not deliver in the same failure queue", () => {
    for (const rule of Object.values(resources(template, 'AWS::Events::Rule'))) {
      const [target] = rule.Properties.Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown } }[];
      const fnId = queueIdOf(target!.Arn);
      const config = configs.find((c) => JSON.stringify(c.FunctionName) === JSON.stringify({ Ref: fnId }));
      expect(target!.DeadLetterConfig.Arn).toEqual(config!.DestinationConfig.OnFailure.Destination);
    }
  });
});

describe('alarms', () => {
  const toTopic = (a: Record<string, any>) => {
    expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(a.OKActions).toEqual([{ Ref: topicId }]);
    expect(a).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  };

  it.each(FUNCTIONS)("alarms on $name's errors", (def) => {
    const found = alarms.filter(
      (a) =>
        a.Namespace === 'AWS/Lambda' &&
        a.MetricName === 'Errors' &&
        JSON.stringify(a.Dimensions) ===
          JSON.stringify([{ Name: 'FunctionName', Value: { Ref: functionIds(stack, def.name).fn } }]),
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.Statistic).toBe('Sum');
    toTopic(found[0]!);
  });

  it('alarms on the depth of every dead-letter queue in the template, whatever feeds it', () => {
    // Dead-letter queues as the template wires them: redrive targets, on-failure destinations, rule target DLQs.
    const dlqs = new Set<string>([
      ...Object.values(resources(template, 'AWS::SQS::Queue')).flatMap((q) =>
        q.Properties.RedrivePolicy ? [queueIdOf(q.Properties.RedrivePolicy.deadLetterTargetArn)] : [],
      ),
      ...Object.values(resources(template, 'AWS::Lambda::EventInvokeConfig')).map((c) =>
        queueIdOf(c.Properties.DestinationConfig.OnFailure.Destination),
      ),
      ...Object.values(resources(template, 'AWS::Events::Rule')).flatMap((r) =>
        (r.Properties.Targets as { DeadLetterConfig?: { Arn: unknown } }[]).flatMap((t) =>
          t.DeadLetterConfig ? [queueIdOf(t.DeadLetterConfig.Arn)] : [],
        ),
      ),
    ]);
    expect(dlqs.size).toBe(Object.keys(QUEUES).length + asynchronous.length);
    for (const id of dlqs) {
      const found = alarms.filter(
        (a) =>
          a.Namespace === 'AWS/SQS' &&
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }]),
      );
      expect(found, id).toHaveLength(1);
      toTopic(found[0]!);
    }
    // No alarm on a queue that is not a dead-letter queue (the presence and notification queues fill normally).
    expect(alarms.filter((a) => a.Namespace === 'AWS/SQS')).toHaveLength(dlqs.size);
  });

  it('sends to one SNS topic that takes publishes over TLS only, and outputs its ARN as AlarmTopicArn', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
    const policy = Object.values(resources(template, 'AWS::SNS::TopicPolicy'))[0]!.Properties;
    expect(JSON.stringify(policy.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('subscribes no one unless the alertEmail context value names an address', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = new App({ context: { 'aws:cdk:bundling-stacks': [], alertEmail: 'ops@example.com' } });
    const t = Template.fromStack(new DownlinkStack(withEmail, 'Downlink'));
    t.resourceCountIs('AWS::SNS::Subscription', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
  });

  it('refuses an alertEmail that is not an address', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], alertEmail: 'ops' } });
    expect(() => new DownlinkStack(app, 'Downlink')).toThrow(/alertEmail is not an email address/);
  });
});

describe('partition', () => {
  it("writes no ARN for the aws partition only: every ARN takes the stack's partition", () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/arn:aws:/);
    // The check above reads real ARNs: they are built from AWS::Partition.
    expect(json).toContain('{"Ref":"AWS::Partition"}');
  });
});
