import {
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { PUSH_EVENTS, PUSH_RESOURCES } from '../../domain/routing-rules.ts';
import type {
  ActionListQuery,
  CreateActionOutcome,
  PushEvent,
  PushResource,
  RoutingAction,
  RoutingRule,
  RoutingRuleStore,
  RuleListQuery,
} from '../../ports/routing-rule-store.ts';
import { indexKeys, keys } from '../../table.ts';
import type { ItemReader } from './coalesced-items.ts';
import { applied } from './conditional.ts';
import { queryUpTo } from './query-pages.ts';

// What is read back is checked: an item written by an older or broken version fails loudly here, not in a push.
const RuleItem = z.object({
  projectId: z.string(),
  ruleId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  resource: z.enum(PUSH_RESOURCES),
  event: z.enum(PUSH_EVENTS),
  where: z.string().optional(),
  active: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Set while the rule's delete runs: the rule is gone for every reader, and no action may join it. */
  deleting: z.number().optional(),
});
const ActionItem = z.object({
  projectId: z.string(),
  actionId: z.string(),
  ruleId: z.string(),
  channel: z.literal('HTTP_FORWARDING'),
  url: z.string(),
  token: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

type StoredRule = z.output<typeof RuleItem>;

const toRule = ({ deleting: _d, ...rule }: StoredRule): RoutingRule => rule;
const isRule = (item: Record<string, unknown>) => String(item.sk).startsWith('RULE#');
const newestFirst =
  <T>(id: (x: T) => string) =>
  (a: T, b: T) =>
    id(a) < id(b) ? 1 : id(a) > id(b) ? -1 : 0;

export class DynamoDbRoutingRuleStore implements RoutingRuleStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reader: ItemReader,
    private readonly now: () => number,
  ) {}

  private ruleItem(r: RoutingRule) {
    return {
      ...keys.routingRule(r.projectId, r.ruleId),
      [indexKeys.routes.pk]: keys.routes(r.projectId, r.resource, r.event),
      [indexKeys.routes.sk]: r.ruleId,
      ...r,
    };
  }

  /** An action sits beside its rule in the routes index: its rule's subject never changes. */
  private actionItem(a: RoutingAction, rule: Pick<RoutingRule, 'resource' | 'event'>) {
    return {
      ...keys.routingAction(a.projectId, a.actionId),
      [indexKeys.routes.pk]: keys.routes(a.projectId, rule.resource, rule.event),
      [indexKeys.routes.sk]: `${a.ruleId}#${a.actionId}`,
      ...a,
    };
  }

  /** The rule as stored, including one being deleted. */
  // Point reads go through the coalescing reader: a push batch's rule and action reads share one BatchGetItem.
  private async storedRule(projectId: string, ruleId: string): Promise<StoredRule | undefined> {
    const item = await this.reader.get(keys.routingRule(projectId, ruleId));
    return item ? RuleItem.parse(item) : undefined;
  }

  /** Every rule and action of the project (a project holds few), read consistently. */
  private async partition(projectId: string, prefix: 'RULE#' | 'ACTION#' | '') {
    const input: QueryCommandInput = {
      TableName: this.table,
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.routing(projectId), ...(prefix ? { ':prefix': prefix } : {}) },
      ConsistentRead: true,
    };
    return queryUpTo(this.db, input, Infinity);
  }

  /**
   * Marks the project as one that may push (mayPush), before a rule or action is written, so that none is
   * ever stored unmarked; a write that dies after it leaves a harmless mark. Also before an update or a new
   * action, so that a rule stored before marks existed is marked when it is next touched.
   */
  private async markPushing(projectId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.pushMark(projectId),
        UpdateExpression: 'SET markedAt = if_not_exists(markedAt, :now)',
        ExpressionAttributeValues: { ':now': this.now() },
      }),
    );
  }

  async createRule(rule: RoutingRule): Promise<boolean> {
    await this.markPushing(rule.projectId);
    const ok = await applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.ruleItem(rule),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return ok;
  }

  async mayPush(projectId: string): Promise<boolean> {
    return (await this.reader.get(keys.pushMark(projectId))) !== undefined;
  }

  async getRule(projectId: string, ruleId: string): Promise<RoutingRule | undefined> {
    const rule = await this.storedRule(projectId, ruleId);
    return rule && rule.deleting === undefined ? toRule(rule) : undefined;
  }

  async listRules(projectId: string, q: RuleListQuery): Promise<{ items: RoutingRule[]; count: number }> {
    const matching = (await this.partition(projectId, 'RULE#'))
      .map((item) => RuleItem.parse(item))
      .filter(
        (r) =>
          r.deleting === undefined &&
          (q.resource === undefined || r.resource === q.resource) &&
          (q.event === undefined || r.event === q.event) &&
          (q.active === undefined || r.active === q.active) &&
          (q.nameContains === undefined || r.name.includes(q.nameContains)),
      )
      .map(toRule)
      .sort(newestFirst((r) => r.ruleId));
    const items = matching.filter((r) => r.ruleId < q.below).slice(q.offset, q.offset + q.limit);
    return { items, count: matching.length };
  }

  async replaceRule(rule: RoutingRule, seenUpdatedAt: number): Promise<boolean> {
    await this.markPushing(rule.projectId);
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.ruleItem(rule),
          ConditionExpression: 'attribute_exists(pk) AND updatedAt = :seen AND attribute_not_exists(deleting)',
          ExpressionAttributeValues: { ':seen': seenUpdatedAt },
        }),
      ),
    );
  }

  /**
   * Mark, remove the actions, remove the rule. The mark hides the rule and stops createAction, which
   * checks the rule after writing its action: either the action is there for the consistent read below,
   * or createAction sees the mark and takes its action back. A delete that dies leaves the marked rule,
   * so the DELETE repeated finishes it.
   */
  async deleteRule(projectId: string, ruleId: string): Promise<boolean> {
    const marked = await applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.routingRule(projectId, ruleId),
          UpdateExpression: 'SET deleting = if_not_exists(deleting, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': this.now() },
        }),
      ),
    );
    if (!marked) return false;
    const actions = (await this.partition(projectId, 'ACTION#')).filter((a) => a.ruleId === ruleId);
    await Promise.all(
      actions.map((a) =>
        this.db.send(
          new DeleteCommand({ TableName: this.table, Key: keys.routingAction(projectId, String(a.actionId)) }),
        ),
      ),
    );
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.routingRule(projectId, ruleId) }));
    return true;
  }

  async createAction(action: RoutingAction): Promise<CreateActionOutcome> {
    const rule = await this.getRule(action.projectId, action.ruleId);
    if (!rule) return 'no-rule';
    await this.markPushing(action.projectId);
    const ok = await applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.actionItem(action, rule),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!ok) return 'exists';
    // The rule may have begun its delete since it was read (see deleteRule).
    if (await this.getRule(action.projectId, action.ruleId)) return 'created';
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: keys.routingAction(action.projectId, action.actionId) }),
    );
    return 'no-rule';
  }

  async getAction(projectId: string, actionId: string): Promise<RoutingAction | undefined> {
    const item = await this.reader.get(keys.routingAction(projectId, actionId));
    return item ? ActionItem.parse(item) : undefined;
  }

  async listActions(projectId: string, q: ActionListQuery): Promise<{ items: RoutingAction[]; count: number }> {
    const items = await this.partition(projectId, '');
    // An interrupted rule delete leaves actions behind until it is repeated; they are not listed meanwhile.
    const liveRules = new Set(
      items
        .filter(isRule)
        .map((i) => RuleItem.parse(i))
        .filter((r) => r.deleting === undefined)
        .map((r) => r.ruleId),
    );
    const matching = items
      .filter((i) => !isRule(i))
      .map((i) => ActionItem.parse(i))
      .filter((a) => liveRules.has(a.ruleId) && (q.ruleId === undefined || a.ruleId === q.ruleId))
      .sort(newestFirst((a) => a.actionId));
    return {
      items: matching.filter((a) => a.actionId < q.below).slice(q.offset, q.offset + q.limit),
      count: matching.length,
    };
  }

  async replaceAction(action: RoutingAction, seenUpdatedAt: number): Promise<boolean> {
    const rule = await this.getRule(action.projectId, action.ruleId);
    if (!rule) return false;
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.actionItem(action, rule),
          ConditionExpression: 'attribute_exists(pk) AND updatedAt = :seen',
          ExpressionAttributeValues: { ':seen': seenUpdatedAt },
        }),
      ),
    );
  }

  deleteAction(projectId: string, actionId: string): Promise<boolean> {
    return applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.routingAction(projectId, actionId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      ),
    );
  }

  async activeRoutes(
    projectId: string,
    resource: PushResource,
    event: PushEvent,
  ): Promise<Array<{ rule: RoutingRule; actions: RoutingAction[] }>> {
    const items = await queryUpTo(
      this.db,
      {
        TableName: this.table,
        IndexName: indexKeys.routes.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': indexKeys.routes.pk },
        ExpressionAttributeValues: { ':pk': keys.routes(projectId, resource, event) },
      },
      Infinity,
    );
    const routes = new Map<string, { rule: RoutingRule; actions: RoutingAction[] }>();
    for (const item of items.filter(isRule)) {
      const rule = RuleItem.parse(item);
      if (rule.active && rule.deleting === undefined) routes.set(rule.ruleId, { rule: toRule(rule), actions: [] });
    }
    for (const item of items.filter((i) => !isRule(i))) {
      const action = ActionItem.parse(item);
      routes.get(action.ruleId)?.actions.push(action);
    }
    return [...routes.values()];
  }
}
