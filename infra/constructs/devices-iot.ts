import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnAuthorizer, CfnDomainConfiguration, CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IotRuleDef } from '../../functions/manifest.ts';
import type { Queues } from './queues.ts';

export interface DevicesIotProps {
  deviceAuthorizer: IFunction;
  rules: IotRuleDef[];
  queues: Queues;
  /** Manifest functions by name, for rules that invoke one. */
  functions: Map<string, IFunction>;
}

/** Devices on AWS IoT Core: the Huawei sign-in as a custom authorizer, and the rules that route device events. */
export class DevicesIot extends Construct {
  readonly authorizer: CfnAuthorizer;
  readonly endpoint: CfnDomainConfiguration;

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

    // A device endpoint where this authorizer is the default: devices built for IoTDA connect with MQTT over
    // TLS on 8883 and plain username/password, with no ALPN and no authorizer name in the username.
    this.endpoint = new CfnDomainConfiguration(this, 'Endpoint', {
      domainConfigurationName: `${stack.stackName}-devices`,
      serviceType: 'DATA',
      applicationProtocol: 'SECURE_MQTT',
      authenticationType: 'CUSTOM_AUTH',
      authorizerConfig: { defaultAuthorizerName: this.authorizer.ref, allowAuthorizerOverride: false },
    });

    const errors = new LogGroup(this, 'RuleErrors', { retention: RetentionDays.ONE_MONTH });
    for (const rule of props.rules) {
      const role = new Role(this, `${rule.name}-role`, { assumedBy: new ServicePrincipal('iot.amazonaws.com') });
      // The actions the CloudWatch Logs rule action needs, on the one error log group.
      role.addToPolicy(
        new PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          resources: [errors.logGroupArn],
        }),
      );
      const topicRule = new CfnTopicRule(this, rule.name, {
        // Rule names are unique per account and region, and allow only letters, digits and underscores.
        ruleName: `${stack.stackName}_${rule.name}`.replace(/\W/g, '_'),
        topicRulePayload: {
          sql: rule.sql,
          awsIotSqlVersion: '2016-03-23',
          ruleDisabled: false,
          actions: [this.action(rule, role, props)],
          errorAction: { cloudwatchLogs: { logGroupName: errors.logGroupName, roleArn: role.roleArn } },
        },
      });
      if ('function' in rule.target) {
        // IoT invokes the function asynchronously; only this rule, in this account, may do so.
        props.functions.get(rule.target.function)!.addPermission(`Invoke-${rule.name}`, {
          principal: new ServicePrincipal('iot.amazonaws.com'),
          sourceArn: topicRule.attrArn,
          sourceAccount: stack.account,
        });
      }
    }
  }

  private action(rule: IotRuleDef, role: Role, props: DevicesIotProps): CfnTopicRule.ActionProperty {
    if ('queue' in rule.target) {
      const queue = props.queues[rule.target.queue];
      role.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      return { sqs: { queueUrl: queue.queueUrl, roleArn: role.roleArn, useBase64: false } };
    }
    const fn = props.functions.get(rule.target.function);
    if (!fn) throw new Error(`IoT rule ${rule.name} targets the unknown function ${rule.target.function}`);
    return { lambda: { functionArn: fn.functionArn } };
  }
}
