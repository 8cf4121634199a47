import type { PushDelivery } from '../domain/push-delivery.ts';

/** The push-delivery queue and its dead-letter queue (SQS on both runtimes). */
export interface PushQueue {
  /** Enqueues each delivery; resolves once all are stored, rejects if any is not. */
  enqueue(deliveries: PushDelivery[]): Promise<void>;
  /** Enqueues one delivery to come back after `delaySeconds` (at most 900). */
  retryLater(delivery: PushDelivery, delaySeconds: number): Promise<void>;
  /** Keeps a delivery that will not be retried any more, for an operator to inspect and redrive. */
  deadLetter(delivery: PushDelivery): Promise<void>;
}
