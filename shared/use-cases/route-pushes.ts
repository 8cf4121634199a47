import type { Deps } from '../ports/deps.ts';
import type { NotificationEnvelope } from '../domain/notifications.ts';
import { projectOfEnvelope, type PushDelivery } from '../domain/push-delivery.ts';
import { matchesWhere, parseWhere, PUSH_EVENTS, PUSH_RESOURCES, type WhereExpr } from '../domain/routing-rules.ts';
import type { PushEvent, PushResource, RoutingRuleStore } from '../ports/routing-rule-store.ts';

/** What HTTP push uses of Deps, so unit tests can give just that. */
export type PushDeps = Pick<Deps, 'config' | 'logger' | 'clock' | 'pushQueue'> & {
  routingRules: Pick<RoutingRuleStore, 'activeRoutes' | 'getRule' | 'getAction'>;
};

const isResource = (r: string): r is PushResource => (PUSH_RESOURCES as readonly string[]).includes(r);
const isEvent = (e: string): e is PushEvent => (PUSH_EVENTS as readonly string[]).includes(e);

// SendMessageBatch's limit: one call per ten pushes, whichever notifications they come from.
const ENQUEUE_CHUNK = 10;

const parsedWhere = (deps: PushDeps, where: string | undefined, ruleId: string): WhereExpr | undefined | null => {
  if (where === undefined || where === '') return undefined;
  try {
    return parseWhere(where);
  } catch (e) {
    // Stored rules were parsed when saved; one that no longer parses matches nothing rather than everything.
    deps.logger.error('a stored where does not parse; its rule matches nothing', { ruleId, error: e as Error });
    return null;
  }
};

/**
 * Turns a batch of notifications into pushes (CONTRACT.md §7): each project's active rules for a subject are
 * read once per batch, each rule's `where` is applied, and every action of a matching rule gets one delivery on
 * the push-delivery queue. Returns the indexes of the notifications whose pushes could not all be enqueued
 * (they come back whole: a push already enqueued for them is then sent twice, never lost).
 */
export const routePushes = async (deps: PushDeps, envelopes: (NotificationEnvelope | undefined)[]) => {
  const routes = new Map<string, ReturnType<PushDeps['routingRules']['activeRoutes']>>();
  const routesOf = (projectId: string, resource: PushResource, event: PushEvent) => {
    const key = JSON.stringify([projectId, resource, event]);
    let found = routes.get(key);
    if (!found) routes.set(key, (found = deps.routingRules.activeRoutes(projectId, resource, event)));
    return found;
  };
  const now = deps.clock.now();
  const failed = new Set<number>();
  const pending: { index: number; delivery: PushDelivery }[] = [];
  await Promise.all(
    envelopes.map(async (envelope, index) => {
      if (!envelope) return;
      const projectId = projectOfEnvelope(envelope);
      if (!projectId || !isResource(envelope.resource) || !isEvent(envelope.event)) return;
      let matched: Awaited<ReturnType<typeof routesOf>>;
      try {
        matched = await routesOf(projectId, envelope.resource, envelope.event);
      } catch (e) {
        deps.logger.error('reading routing rules failed', { projectId, error: e as Error });
        failed.add(index);
        return;
      }
      for (const { rule, actions } of matched) {
        const where = parsedWhere(deps, rule.where, rule.ruleId);
        if (where === null || !matchesWhere(where, envelope)) continue;
        for (const action of actions)
          pending.push({
            index,
            delivery: { projectId, ruleId: rule.ruleId, actionId: action.actionId, envelope, attempts: 0, since: now },
          });
      }
    }),
  );
  const chunks: (typeof pending)[] = [];
  for (let i = 0; i < pending.length; i += ENQUEUE_CHUNK) chunks.push(pending.slice(i, i + ENQUEUE_CHUNK));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        await deps.pushQueue.enqueue(chunk.map((p) => p.delivery));
      } catch (e) {
        deps.logger.error('enqueueing pushes failed', { error: e as Error });
        for (const p of chunk) failed.add(p.index);
      }
    }),
  );
  return failed;
};
