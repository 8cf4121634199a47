import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import * as manifest from '../functions/manifest.ts';
import type { FunctionDef, IotRuleDef, QueueDef, QueueName, Trigger } from '../functions/manifest.ts';
import { DownlinkApi } from './constructs/api.ts';
import { BatchWorkflow } from './constructs/batch.ts';
import { ConsoleSite } from './constructs/console.ts';
import { createTable } from './constructs/data.ts';
import { DevicesIot } from './constructs/devices-iot.ts';
import { DownlinkFunction } from './constructs/downlink-function.ts';
import { Operations } from './constructs/operations.ts';
import { DownlinkQueues } from './constructs/queues.ts';

/** What the stack deploys: always functions/manifest.ts in the app; tests may pass a variant. */
export interface Manifest {
  functions: FunctionDef[];
  queues: Record<QueueName, QueueDef>;
  iotRules: IotRuleDef[];
}

export const MANIFEST: Manifest = {
  functions: manifest.FUNCTIONS,
  queues: manifest.QUEUES,
  iotRules: manifest.IOT_RULES,
};

export interface DownlinkStackProps extends StackProps {
  manifest?: Manifest;
}

/** The whole deployment, built from the manifest (DESIGN.md "One definition, two runtimes"). */
export class DownlinkStack extends Stack {
  constructor(scope: Construct, id: string, props: DownlinkStackProps = {}) {
    super(scope, id, props);
    const m = props.manifest ?? MANIFEST;

    const table = createTable(this);
    const downlinkQueues = new DownlinkQueues(this, 'Queues', m.queues);
    const queues = downlinkQueues.byName;
    const iotDataEndpoint = m.functions.some((f) => f.access.publish) ? describeIotDataEndpoint(this) : undefined;
    const bindings = {
      table,
      notifications: queues.notifications,
      pushRoute: queues['push-route'],
      pushDelivery: queues['push-delivery'],
      // Pushes that failed for 24 hours go where SQS's redrive policy sends a delivery that keeps crashing
      // its function: one place to inspect, and SQS's own redrive takes them back.
      pushDeadLetter: downlinkQueues.deadLetters['push-delivery'],
      ...(iotDataEndpoint ? { iotDataEndpoint } : {}),
    };
    const fns = new Map(m.functions.map((def) => [def.name, new DownlinkFunction(this, def, bindings).fn]));

    const triggersOf = <K extends Trigger['kind']>(kind: K) =>
      m.functions.flatMap((def) =>
        def.triggers
          .filter((t): t is Extract<Trigger, { kind: K }> => t.kind === kind)
          .map((trigger) => ({ def, trigger, fn: fns.get(def.name) as NodejsFunction })),
      );
    const theOne = (kind: 'api-authorizer' | 'device-authorizer') =>
      fns.get(manifest.theOneWith(m.functions, kind).name) as NodejsFunction;

    // The batch state machine invokes three manifest functions and is started by those allowed to (access.startBatch).
    const fnNamed = (name: string) => {
      const fn = fns.get(name);
      if (!fn) throw new Error(`The batch workflow needs the manifest function ${name}`);
      return fn;
    };
    const batch = new BatchWorkflow(this, 'Batch', {
      prepare: fnNamed(manifest.BATCH_WORKFLOW.prepareFunction),
      chunk: fnNamed(manifest.BATCH_WORKFLOW.chunkFunction),
      settle: fnNamed(manifest.BATCH_WORKFLOW.settleFunction),
    });
    for (const def of m.functions.filter((f) => f.access.startBatch))
      batch.bindStart(fnNamed(def.name), def.access.watchBatch === true);

    const api = new DownlinkApi(this, 'Api', {
      authorizer: theOne('api-authorizer'),
      routes: triggersOf('http').map(({ trigger, fn }) => ({ trigger, handler: fn })),
    });

    // The web console, and the API again on the console's origin (one CloudFront distribution).
    const site = new ConsoleSite(this, 'Console', { api: api.restApi });

    const iot = new DevicesIot(this, 'Devices', {
      deviceAuthorizer: theOne('device-authorizer'),
      rules: m.iotRules,
      queues,
      functions: fns,
    });

    for (const { def, trigger, fn } of triggersOf('queue')) {
      const visibility = m.queues[trigger.queue].visibilityTimeoutSeconds;
      const timeout = fn.timeout?.toSeconds() ?? 0;
      // A message must stay hidden while the function works on it, or another poller picks it up again.
      if (visibility < timeout) {
        throw new Error(
          `Queue ${trigger.queue} hides messages ${visibility} s, less than ${def.name}'s timeout of ${timeout} s`,
        );
      }
      fn.addEventSource(
        new SqsEventSource(queues[trigger.queue], { batchSize: trigger.batchSize, reportBatchItemFailures: true }),
      );
    }

    // Alarms to one topic; functions invoked asynchronously (schedules, IoT rule actions) keep what failed.
    const ops = new Operations(this, 'Operations', {
      functions: fns,
      asynchronous: [
        ...new Set([
          ...triggersOf('schedule').map(({ def }) => def.name),
          ...m.iotRules.flatMap((r) => ('function' in r.target ? [r.target.function] : [])),
        ]),
      ],
      deadLetterQueues: Object.fromEntries(
        Object.entries(downlinkQueues.deadLetters).map(([name, q]) => [`${name}-dlq`, q]),
      ),
      alertEmail: this.node.tryGetContext('alertEmail') as string | undefined,
    });

    // Schedules (the sweepers): an EventBridge rule per schedule trigger; an event it cannot deliver is kept too.
    for (const { def, trigger, fn } of triggersOf('schedule')) {
      new Rule(this, `${def.name}-schedule`, {
        schedule: Schedule.rate(Duration.minutes(trigger.everyMinutes)),
        targets: [new LambdaFunction(fn, { retryAttempts: 2, deadLetterQueue: ops.failures.get(def.name)! })],
      });
    }

    new CfnOutput(this, 'ConsoleUrl', { value: `https://${site.distribution.distributionDomainName}/console/` });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'NotificationQueueUrl', { value: queues.notifications.queueUrl });
    new CfnOutput(this, 'NotificationQueueArn', { value: queues.notifications.queueArn });
    // For `npm run push-dlq -- --aws`; the SQS console redrives the dead-letter queue by itself.
    new CfnOutput(this, 'PushDeliveryQueueUrl', { value: queues['push-delivery'].queueUrl });
    new CfnOutput(this, 'PushDeadLetterQueueUrl', { value: bindings.pushDeadLetter.queueUrl });
    new CfnOutput(this, 'IotAuthorizerName', { value: iot.authorizer.ref });
    new CfnOutput(this, 'DeviceDomainConfigurationName', { value: iot.endpoint.ref });
    new CfnOutput(this, 'BatchStateMachineArn', { value: batch.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: ops.topic.topicArn });
  }
}

/** The account's iot:Data-ATS endpoint, which iot-data Publish must be sent to; it is per account and region. */
const describeIotDataEndpoint = (stack: Stack): string => {
  const endpoint = new AwsCustomResource(stack, 'IotDataEndpoint', {
    onUpdate: {
      service: 'Iot',
      action: 'describeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: PhysicalResourceId.of('iot:Data-ATS'),
    },
    policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
    // Use the SDK in the Lambda runtime: a deploy then never downloads one from npm.
    installLatestAwsSdk: false,
  });
  Validations.of(endpoint).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'iot:DescribeEndpoint has no resource-level permissions; it only reads the endpoint address.',
  });
  // The provider function CDK shares between all AwsCustomResources of the stack.
  const provider = stack.node.findChild(`AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'CDK creates the AwsCustomResource provider and its role; it runs only during deployment.',
  });
  return `https://${endpoint.getResponseField('endpointAddress')}`;
};
