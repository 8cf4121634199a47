import type { PUSH_EVENTS, PUSH_RESOURCES } from '../domain/routing-rules.ts';

/** What a routing rule routes (CONTRACT.md §7): the notifications of CONTRACT.md §3. */
export type PushResource = (typeof PUSH_RESOURCES)[number];
export type PushEvent = (typeof PUSH_EVENTS)[number];

/** An IoTDA routing rule: which of a project's notifications its actions receive. */
export interface RoutingRule {
  projectId: string;
  /** 24 hex that sort by creation: the rule's place in lists and the value of their `marker`. */
  ruleId: string;
  name: string;
  description?: string;
  /** Fixed at creation (IoTDA's UpdateRule cannot change the subject). */
  resource: PushResource;
  event: PushEvent;
  /** The condition as the application wrote it (shared/domain/routing-rules.ts parseWhere reads it). */
  where?: string;
  /** New rules are inactive until activated (IoTDA). */
  active: boolean;
  createdAt: number;
  /** Epoch ms, strictly increasing with each update: updates are conditional on the value they read. */
  updatedAt: number;
}

/** An IoTDA rule action with channel HTTP_FORWARDING: where its rule's notifications are POSTed. */
export interface RoutingAction {
  projectId: string;
  /** 24 hex that sort by creation, like rule ids. */
  actionId: string;
  /** Fixed at creation (IoTDA's UpdateRuleAction cannot move an action). */
  ruleId: string;
  channel: 'HTTP_FORWARDING';
  url: string;
  /** Signs each push (CONTRACT.md §7) when set. */
  token?: string;
  createdAt: number;
  updatedAt: number;
}

export interface RoutingListQuery {
  /** Only ids below this one (IoTDA §1 marker). */
  below: string;
  offset: number;
  limit: number;
}

export interface RuleListQuery extends RoutingListQuery {
  resource?: PushResource;
  event?: PushEvent;
  /** Only rules whose name contains this. */
  nameContains?: string;
  active?: boolean;
}

export interface ActionListQuery extends RoutingListQuery {
  ruleId?: string;
}

export type CreateActionOutcome = 'created' | 'no-rule' | 'exists';

/**
 * A project's routing rules and their actions. Every write is conditional; a rule being deleted is hidden
 * from every read, and its actions go with it.
 */
export interface RoutingRuleStore {
  /**
   * False when the id is taken. The project is marked as one that may push (mayPush) before the rule is
   * stored, and again before a rule is updated or an action created.
   */
  createRule(rule: RoutingRule): Promise<boolean>;
  /**
   * Whether the project may have push rules: false only for a project that has never had one, whose
   * notifications push-route need not see (CONTRACT.md §7). Read as fresh as the call's other point reads,
   * and with them in one request.
   */
  mayPush(projectId: string): Promise<boolean>;
  getRule(projectId: string, ruleId: string): Promise<RoutingRule | undefined>;
  /** Newest first; `count` is every rule matching the filter. */
  listRules(projectId: string, query: RuleListQuery): Promise<{ items: RoutingRule[]; count: number }>;
  /** Replaces the rule if it is still as it was at `seenUpdatedAt` (and not being deleted); false otherwise. */
  replaceRule(rule: RoutingRule, seenUpdatedAt: number): Promise<boolean>;
  /** Deletes the rule and its actions; false when there is no such rule. A retry finishes a delete that died. */
  deleteRule(projectId: string, ruleId: string): Promise<boolean>;
  /** Stores the action only if its rule exists (and is not being deleted) at that moment. */
  createAction(action: RoutingAction): Promise<CreateActionOutcome>;
  getAction(projectId: string, actionId: string): Promise<RoutingAction | undefined>;
  /** Newest first; `count` is every action matching the filter. */
  listActions(projectId: string, query: ActionListQuery): Promise<{ items: RoutingAction[]; count: number }>;
  /** Replaces the action if it is still as it was at `seenUpdatedAt`; false otherwise. */
  replaceAction(action: RoutingAction, seenUpdatedAt: number): Promise<boolean>;
  /** False when there is no such action. */
  deleteAction(projectId: string, actionId: string): Promise<boolean>;
  /**
   * For delivery: the project's active rules for this subject, each with its actions, in one read. Eventually
   * consistent: a rule activated a moment ago may miss a notification or two.
   */
  activeRoutes(
    projectId: string,
    resource: PushResource,
    event: PushEvent,
  ): Promise<Array<{ rule: RoutingRule; actions: RoutingAction[] }>>;
}
