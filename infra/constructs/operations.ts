import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OperationsProps {
  /** Every manifest function, by name: each gets an alarm on its errors. */
  functions: Map<string, IFunction>;
  /** Those invoked asynchronously (IoT rule actions, schedules): each gets a queue for the events it failed. */
  asynchronous: string[];
  /** Existing dead-letter queues to watch, by name. */
  deadLetterQueues: Record<string, IQueue>;
  /** Subscribed to the alarm topic when set (CDK context `alertEmail`). */
  alertEmail?: string | undefined;
}

/**
 * What an operator is told about (docs/decisions.md "Alarms"): one SNS topic; an alarm when a function
 * fails and when any dead-letter queue holds a message. An asynchronous invocation that fails after Lambda's
 * two retries goes to its function's failure queue instead of being dropped.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  /** The failure queue of each asynchronously invoked function, by name. */
  readonly failures = new Map<string, Queue>();

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'AlarmTopic', { enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key, ' +
        'and the notices carry only alarm names and states, not data.',
    });
    if (props.alertEmail !== undefined) {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alertEmail))
        throw new Error(`alertEmail is not an email address: ${props.alertEmail}`);
      this.topic.addSubscription(new EmailSubscription(props.alertEmail));
    }

    for (const name of props.asynchronous) {
      const fn = props.functions.get(name);
      if (!fn) throw new Error(`No manifest function ${name} to keep the failed events of`);
      // 14 days, the SQS maximum, so an operator has time to look at what failed and replay it.
      const queue = new Queue(this, `${name}-failures`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'It is itself a dead-letter queue: ' +
          'the on-failure destination of a function (and the DLQ of its schedule target).',
      });
      fn.configureAsyncInvoke({ onFailure: new SqsDestination(queue), retryAttempts: 2 });
      this.failures.set(name, queue);
    }

    for (const [name, fn] of props.functions)
      this.alarm(
        `${name}-errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `${name} failed (Lambda Errors)`,
      );
    const watched: [string, IQueue][] = [
      ...Object.entries(props.deadLetterQueues),
      ...[...this.failures].map(([name, queue]): [string, IQueue] => [`${name}-failures`, queue]),
    ];
    for (const [name, queue] of watched)
      this.alarm(
        `${name}-depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        `Dead-letter queue ${name} holds messages that failed`,
      );
  }

  /** Fires when the metric is above 0 in a period, and says so again when it is back to 0. */
  private alarm(id: string, metric: IMetric, description: string): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data (a function not called, a queue CloudWatch has not reported yet) is not a failure.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
  }
}
