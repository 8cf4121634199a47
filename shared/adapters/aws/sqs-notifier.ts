import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { NotificationEnvelope } from '../../domain/notifications.ts';
import type { Notifier } from '../../ports/notifier.ts';

export class SqsNotifier implements Notifier {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(envelope: NotificationEnvelope): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(envelope) }));
  }
}
