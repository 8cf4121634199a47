import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NotificationEnvelope } from './notifications.ts';

/** One push of one notification to one action's URL: the message on the push-delivery queue. */
export interface PushDelivery {
  projectId: string;
  ruleId: string;
  actionId: string;
  /** Sent unchanged on every attempt, so its request_id lets the receiver drop repeats (CONTRACT.md §7). */
  envelope: NotificationEnvelope;
  /** Attempts made so far. */
  attempts: number;
  /** Times it waited because its host had as many pushes in flight as it may (not attempts). */
  deferrals?: number;
  /** Epoch ms of the first attempt's enqueueing: retries stop pushForMs after it. */
  since: number;
  /** Set when it went to the dead-letter queue: a redrive starts a new retry period. */
  deadLetteredAt?: number;
  /** Why the last attempt failed, for whoever reads the dead-letter queue. */
  lastError?: string;
}

/** SQS's per-message DelaySeconds limit, and the contract's longest gap between retries. */
export const MAX_RETRY_DELAY_MS = 15 * 60 * 1000;

/**
 * The wait before retry number `attempt` (1 for the first): base doubled each time, up to 15 minutes, with
 * jitter so that pushes failing together do not come back together. Never less than the doubled base (the
 * contract's "retries start after base"), at most a quarter more; near the cap, within its last fifth.
 */
export const retryDelayMs = (attempt: number, baseMs: number, random: number = Math.random()): number => {
  const doubled = baseMs * 2 ** Math.min(attempt - 1, 40);
  if (doubled * 1.25 <= MAX_RETRY_DELAY_MS) return Math.round(doubled * (1 + random / 4));
  return Math.round(MAX_RETRY_DELAY_MS * (0.8 + random / 5));
};

/** SQS delays in whole seconds: rounded up, so a retry never comes back before its delay. */
export const delaySeconds = (ms: number): number => Math.min(900, Math.ceil(ms / 1000));

/** The project a notification belongs to: the header's app_id (devices, messages), else the body's (batch tasks). */
export const projectOfEnvelope = (e: NotificationEnvelope): string | undefined => {
  const id = e.notify_data.header?.app_id ?? e.notify_data.body.app_id;
  return typeof id === 'string' ? id : undefined;
};

export const PUSH_TIMESTAMP_HEADER = 'x-downlink-timestamp';
export const PUSH_SIGNATURE_HEADER = 'x-downlink-signature';

/** CONTRACT.md §7: hex HMAC-SHA256 keyed by the action's token over `{timestamp}.{body}`. */
export const pushSignature = (token: string, timestamp: string, body: string): string =>
  createHmac('sha256', token).update(`${timestamp}.${body}`).digest('hex');

/** What a receiver does with the two headers: true when the push was signed with `token`. */
export const verifyPushSignature = (
  token: string,
  timestamp: string | undefined,
  body: string,
  signature: string | undefined,
): boolean => {
  if (!timestamp || !signature || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(pushSignature(token, timestamp, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
};
