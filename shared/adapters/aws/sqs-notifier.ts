import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../../config.ts';
import type { NotificationEnvelope } from '../../domain/notifications.ts';
import type { Notifier } from '../../ports/notifier.ts';
import { clientOptions } from './client-options.ts';

export class SqsNotifier implements Notifier {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(envelope: NotificationEnvelope): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(envelope) }));
  }
}

/** The notifier of a function whose manifest access has `notify` (functions/create-deps.ts Adapters). */
export const sqsNotifier = (config: Config): Notifier =>
  new SqsNotifier(new SQSClient(clientOptions(config.region, config.endpoints?.sqs)), config.notificationQueueUrl);
