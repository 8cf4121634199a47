import { postPush, type PushOutcome } from '../adapters/push-post.ts';
import type { HostBreaker } from '../domain/host-breaker.ts';
import {
  delaySeconds,
  PUSH_SIGNATURE_HEADER,
  PUSH_TIMESTAMP_HEADER,
  type PushDelivery,
  pushSignature,
  retryDelayMs,
} from '../domain/push-delivery.ts';
import { checkPushUrl } from '../domain/push-url.ts';
import type { RoutingAction, RoutingRule } from '../ports/routing-rule-store.ts';
import type { PushDeps } from './route-pushes.ts';

/**
 * The actions and rules one batch of deliveries reads, each once however many of its pushes share it: read
 * when the batch starts, so still "read again before the send".
 */
export const batchRouting = (deps: PushDeps) => {
  const actions = new Map<string, Promise<RoutingAction | undefined>>();
  const rules = new Map<string, Promise<RoutingRule | undefined>>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>) => {
    let found = cache.get(key);
    if (!found) cache.set(key, (found = read()));
    return found;
  };
  return {
    action: (projectId: string, actionId: string) =>
      once(actions, `${projectId}/${actionId}`, () => deps.routingRules.getAction(projectId, actionId)),
    rule: (projectId: string, ruleId: string) =>
      once(rules, `${projectId}/${ruleId}`, () => deps.routingRules.getRule(projectId, ruleId)),
  };
};
export type BatchRouting = ReturnType<typeof batchRouting>;

/**
 * A push to a host with its most POSTs in flight waits in this process for a place while the host's POSTs keep
 * ending (one at least every SLOT_IDLE_MS, up to SLOT_WAIT_MS), then goes back to the queue (host-breaker.ts).
 */
const SLOT_IDLE_MS = 250;
const SLOT_WAIT_MS = 5_000;

export type DeliveryResult = 'delivered' | 'dropped' | 'retrying' | 'deferred' | 'dead-lettered';

/** The headers of one attempt: a fresh timestamp each time, over the same body (CONTRACT.md §7). */
const signedHeaders = (action: RoutingAction, body: string, now: number): Record<string, string> => {
  if (!action.token) return {};
  const timestamp = String(now);
  return { [PUSH_TIMESTAMP_HEADER]: timestamp, [PUSH_SIGNATURE_HEADER]: pushSignature(action.token, timestamp, body) };
};

/**
 * One attempt at one push. The action and its rule are read again, so a push whose rule was deleted or
 * deactivated meanwhile is dropped, and one whose action changed goes to its new URL with its new token.
 * A failure sends the push back to the queue to come again after the backoff, or, once retrying would pass
 * `pushRetryForMs` since its first attempt, to the dead-letter queue. Either write completes before this
 * resolves, and the caller acknowledges the original only then: a crash in between sends a push twice,
 * never zero times.
 */
export const deliverPush = async (
  deps: PushDeps,
  breaker: HostBreaker,
  delivery: PushDelivery,
  routing: BatchRouting = batchRouting(deps),
) => {
  const { projectId, actionId, ruleId } = delivery;
  // At once: an action never moves to another rule (IoTDA), so the delivery's rule id is the action's.
  const [action, rule] = await Promise.all([routing.action(projectId, actionId), routing.rule(projectId, ruleId)]);
  if (!action || action.ruleId !== ruleId || !rule?.active) {
    deps.logger.debug('push dropped: its action or rule is gone or inactive', { projectId, actionId });
    return 'dropped';
  }
  const now = deps.clock.now();
  // A redriven push (from the dead-letter queue, by SQS or `npm run push-dlq`) gets a new retry period.
  const current: PushDelivery = delivery.deadLetteredAt
    ? { ...delivery, attempts: 0, since: now, deadLetteredAt: undefined }
    : delivery;

  const host = new URL(action.url).host;
  const refused = await checkPushUrl(action.url, { allowPrivate: deps.config.pushAllowPrivate });
  let outcome: PushOutcome;
  if (refused) outcome = { ok: false, error: `URL refused: ${refused}` };
  else {
    const admission = await breaker.admitWithin(host, SLOT_IDLE_MS, SLOT_WAIT_MS);
    if (admission === 'busy') {
      // Not an attempt: the host has had as many pushes in flight as it may for a while; this one waits its turn
      // in the queue, longer each time, so a host that hangs does not have its pushes go round it every second.
      const deferrals = (current.deferrals ?? 0) + 1;
      const wait = retryDelayMs(deferrals, deps.config.pushRetryBaseMs);
      await deps.pushQueue.retryLater({ ...current, deferrals }, delaySeconds(wait));
      return 'deferred';
    }
    if (admission === 'open') {
      outcome = { ok: false, error: `not sent: ${host} failed ${breaker.failuresOf(host)} times in a row` };
    } else {
      const body = JSON.stringify(current.envelope);
      // Signed at this attempt's moment: the wait for a place may have taken seconds.
      outcome = await postPush(action.url, body, signedHeaders(action, body, deps.clock.now()), {
        allowPrivate: deps.config.pushAllowPrivate,
      });
      breaker.settle(host, outcome.ok);
    }
  }
  if (outcome.ok) return 'delivered';

  const attempts = current.attempts + 1;
  // Not before the host's breaker lets a probe through: sooner would only find it open again.
  const delay = Math.max(retryDelayMs(attempts, deps.config.pushRetryBaseMs), breaker.reopensInMs(host));
  const failed: PushDelivery = { ...current, attempts, lastError: outcome.error };
  const at = deps.clock.now();
  if (at + delay > current.since + deps.config.pushRetryForMs) {
    deps.logger.warn('push dead-lettered after retrying', { projectId, actionId, attempts, error: outcome.error });
    await deps.pushQueue.deadLetter({ ...failed, deadLetteredAt: at });
    return 'dead-lettered';
  }
  deps.logger.debug('push failed; retrying later', { projectId, actionId, attempts, delay, error: outcome.error });
  await deps.pushQueue.retryLater(failed, delaySeconds(delay));
  return 'retrying';
};
