import { describe, expect, it } from 'vitest';
import { IOT_RULES } from '../../functions/manifest.ts';
import { functionIds, logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const devices = stack.node.findChild('Devices').node;
const authorizerId = logicalId(devices.findChild('Authorizer'));

describe('device sign-in', () => {
  it('runs the Huawei username/password check as an active IoT custom authorizer without token signing', () => {
    template.hasResourceProperties('AWS::IoT::Authorizer', {
      AuthorizerFunctionArn: { 'Fn::GetAtt': [functionIds(stack, 'device-authorizer').fn, 'Arn'] },
      SigningDisabled: true,
      Status: 'ACTIVE',
    });
    template.hasOutput('IotAuthorizerName', { Value: { Ref: authorizerId } });
  });

  it('lets only that authorizer invoke the device-authorizer function', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionIds(stack, 'device-authorizer').fn, 'Arn'] },
      Principal: 'iot.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [authorizerId, 'Arn'] },
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });
});

describe('device endpoint', () => {
  it('makes the Huawei authorizer the default of an MQTT-over-TLS endpoint with custom auth', () => {
    template.hasResourceProperties('AWS::IoT::DomainConfiguration', {
      ServiceType: 'DATA',
      ApplicationProtocol: 'SECURE_MQTT',
      AuthenticationType: 'CUSTOM_AUTH',
      AuthorizerConfig: { DefaultAuthorizerName: { Ref: authorizerId }, AllowAuthorizerOverride: false },
    });
    template.hasOutput('DeviceDomainConfigurationName', {});
  });
});

describe('IoT rules', () => {
  it('creates one topic rule per manifest rule', () => {
    template.resourceCountIs('AWS::IoT::TopicRule', IOT_RULES.length);
  });

  const queueRules = IOT_RULES.flatMap((r) => ('queue' in r.target ? [{ ...r, queue: r.target.queue }] : []));
  const functionRules = IOT_RULES.flatMap((r) => ('function' in r.target ? [{ ...r, fn: r.target.function }] : []));

  it('routes lifecycle events to a queue and device answers to a function', () => {
    expect(queueRules.map((r) => r.name)).toEqual(['presence_events', 'subscription_events']);
    expect(functionRules.map((r) => r.fn)).toEqual(['device-response', 'device-response', 'device-response']);
  });

  it.each(functionRules)('invokes $fn for $name, only from that rule', (rule) => {
    const fnId = functionIds(stack, rule.fn).fn;
    const ruleId = logicalId(devices.findChild(rule.name));
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        Sql: rule.sql,
        AwsIotSqlVersion: '2016-03-23',
        RuleDisabled: false,
        Actions: [{ Lambda: { FunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] } } }],
      },
    });
    expect(rule.sql).toMatch(
      /^SELECT encode\(\*, 'base64'\) AS payload, topic\(\) AS topic, clientid\(\) AS clientid FROM 'oc\/devices\/\+\/sys\/.+\/response\/\+'$/,
    );
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'iot.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it.each(queueRules)('sends $name events to the $queue queue and logs failed deliveries', (rule) => {
    const queue = logicalId(stack.node.findChild('Queues').node.findChild(rule.queue));
    const roleId = logicalId(devices.findChild(`${rule.name}-role`));
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        Sql: rule.sql,
        AwsIotSqlVersion: '2016-03-23',
        RuleDisabled: false,
        Actions: [{ Sqs: { QueueUrl: { Ref: queue }, RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] }, UseBase64: false } }],
        ErrorAction: {
          CloudwatchLogs: {
            LogGroupName: { Ref: logicalId(devices.findChild('RuleErrors')) },
            RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
          },
        },
      },
    });
    // The rule's role may send to its own queue and nothing else on SQS.
    const statements = Object.values(resources(template, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const sqs = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([
      expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } }),
    ]);
  });
});
