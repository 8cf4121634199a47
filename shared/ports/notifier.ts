import type { NotificationEnvelope } from '../domain/notifications.ts';

/** The project's notification queue (CONTRACT.md §3): at least once, deduplicated by request_id. */
export interface Notifier {
  /**
   * Sends to the project's notification queue and, unless `mayPush` is false (this call read that the project
   * never had a push rule: RoutingRuleStore.mayPush), to HTTP push (§7). Sends made in one turn go together.
   */
  send(envelope: NotificationEnvelope, mayPush?: boolean): Promise<void>;
}
