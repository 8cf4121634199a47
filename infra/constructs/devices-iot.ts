import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnAuthorizer, CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IotRuleDef } from '../../functions/manifest.ts';
import type { Queues } from './queues.ts';

export interface DevicesIotProps {
  deviceAuthorizer: IFunction;
  rules: IotRuleDef[];
  queues: Queues;
}

/** Devices on AWS IoT Core: the Huawei sign-in as a custom authorizer, and the rules that route device events. */
export class DevicesIot extends Construct {
  readonly authorizer: CfnAuthorizer;

  constructor(scope: Construct, id: string, props: DevicesIotProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // CONTRACT.md §2: MQTT username/password, so there is no signed token to verify.
    this.authorizer = new CfnAuthorizer(this, 'Authorizer', {
      authorizerName: `${stack.stackName}-devices`,
      authorizerFunctionArn: props.deviceAuthorizer.functionArn,
      signingDisabled: true,
      status: 'ACTIVE',
    });
    // Only this authorizer, in this account, may invoke the function.
    props.deviceAuthorizer.addPermission('IotAuthorizerInvoke', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: this.authorizer.attrArn,
      sourceAccount: stack.account,
    });

    const errors = new LogGroup(this, 'RuleErrors', { retention: RetentionDays.ONE_MONTH });
    for (const rule of props.rules) {
      const queue = props.queues[rule.queue];
      const role = new Role(this, `${rule.name}-role`, { assumedBy: new ServicePrincipal('iot.amazonaws.com') });
      role.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      // The actions the CloudWatch Logs rule action needs, on the one error log group.
      role.addToPolicy(
        new PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          resources: [errors.logGroupArn],
        }),
      );
      new CfnTopicRule(this, rule.name, {
        // Rule names are unique per account and region, and allow only letters, digits and underscores.
        ruleName: `${stack.stackName}_${rule.name}`.replace(/\W/g, '_'),
        topicRulePayload: {
          sql: rule.sql,
          awsIotSqlVersion: '2016-03-23',
          ruleDisabled: false,
          actions: [{ sqs: { queueUrl: queue.queueUrl, roleArn: role.roleArn, useBase64: false } }],
          errorAction: { cloudwatchLogs: { logGroupName: errors.logGroupName, roleArn: role.roleArn } },
        },
      });
    }
  }
}
