import type { NotificationEnvelope } from '../domain/notifications.ts';

/** The project's notification queue (CONTRACT.md §3): at least once, deduplicated by request_id. */
export interface Notifier {
  send(envelope: NotificationEnvelope): Promise<void>;
}
