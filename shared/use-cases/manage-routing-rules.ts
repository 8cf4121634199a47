import * as z from 'zod';
import { checkPushUrl } from '../domain/push-url.ts';
import {
  PUSH_EVENTS,
  PUSH_RESOURCES,
  parseWhere,
  WHERE_MAX_LENGTH,
  WhereSyntaxError,
} from '../domain/routing-rules.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { newListId } from '../ids.ts';
import { PAGING } from '../paging.ts';
import type { RoutingAction, RoutingRule } from '../ports/routing-rule-store.ts';
import { parseInput } from '../validation.ts';

/** The ports this use case uses. */
export type ManageRoutingRulesDeps = Pick<Deps, 'clock' | 'config' | 'logger' | 'routingRules'>;

// IoTDA's routing-rule API (CONTRACT.md §7, research console-and-models §5). app_type and app_id are accepted
// and ignored: a rule belongs to the project in its path.
const Subject = z.object({ resource: z.enum(PUSH_RESOURCES), event: z.enum(PUSH_EVENTS) });
const text = (max: number) => z.string().max(max);
// Pushes carry the whole envelope, so the only projection there is is all of it.
const Select = z
  .string()
  .max(WHERE_MAX_LENGTH)
  .refine((s) => s.trim() === '*', "must be '*' (pushes carry the whole envelope)");
const Where = z.string().max(WHERE_MAX_LENGTH);

const CreateRuleBody = z.object({
  rule_name: text(256).optional(),
  description: text(256).optional(),
  subject: Subject,
  select: Select.optional(),
  where: Where.optional(),
});
const UpdateRuleBody = z.object({
  rule_name: text(256).optional(),
  description: text(256).optional(),
  select: Select.nullable().optional(),
  where: Where.nullable().optional(),
  active: z.boolean().optional(),
});
const RuleListQuery = z.object({
  resource: z.enum(PUSH_RESOURCES).optional(),
  event: z.enum(PUSH_EVENTS).optional(),
  rule_name: text(256).optional(),
  active: z.enum(['true', 'false']).optional(),
  ...PAGING,
});

// IoTDA: the token is 3-32 letters and digits; cert_id, cn_name and sni_enable are accepted and ignored.
const HttpForwarding = z.object({
  url: z.string().min(1),
  token: z
    .string()
    .regex(/^[A-Za-z0-9]{3,32}$/, 'must be 3-32 letters and digits')
    .optional(),
  signature_enable: z.boolean().optional(),
});
const Channel = z.literal('HTTP_FORWARDING', { error: 'must be HTTP_FORWARDING (the only channel Downlink has)' });
const ChannelDetail = z.object({ http_forwarding: HttpForwarding });
const NoBatch = z.literal(false, { error: 'must be false: each push carries one notification' }).optional();
const CreateActionBody = z.object({
  rule_id: z.string(),
  channel: Channel,
  channel_detail: ChannelDetail,
  batch: NoBatch,
});
const UpdateActionBody = z.object({
  channel: Channel.optional(),
  channel_detail: ChannelDetail.optional(),
  batch: NoBatch,
});
const ActionListQuery = z.object({ rule_id: z.string().optional(), channel: Channel.optional(), ...PAGING });

const ID = /^[0-9a-f]{24}$/;
const UPDATE_ATTEMPTS = 5;

/** IoTDA RoutingRule. */
const ruleView = (r: RoutingRule) => ({
  rule_id: r.ruleId,
  rule_name: r.name,
  ...(r.description !== undefined ? { description: r.description } : {}),
  subject: { resource: r.resource, event: r.event },
  app_type: 'APP',
  app_id: r.projectId,
  ...(r.where !== undefined ? { select: '*', where: r.where } : {}),
  active: r.active,
});

/** IoTDA RoutingRuleAction. The token is a secret: shown only as whether pushes are signed. */
const actionView = (a: RoutingAction) => ({
  action_id: a.actionId,
  rule_id: a.ruleId,
  app_id: a.projectId,
  channel: a.channel,
  channel_detail: { http_forwarding: { url: a.url, signature_enable: a.token !== undefined } },
  batch: false,
});

/** A `where` checked as delivery will read it; '' or null is no condition. */
const checkedWhere = (where: string | null | undefined): string | undefined => {
  if (where === undefined || where === null || where.trim() === '') return undefined;
  try {
    parseWhere(where);
  } catch (e) {
    if (e instanceof WhereSyntaxError) throw errors.invalid('where', e.message);
    throw e;
  }
  return where;
};

const checkedUrl = async (deps: ManageRoutingRulesDeps, url: string): Promise<string> => {
  const why = await checkPushUrl(url, { allowPrivate: deps.config.pushAllowPrivate });
  if (why) throw errors.invalid('channel_detail.http_forwarding.url', why);
  return url;
};

/** The token pushes are signed with: none when signing is turned off, required when it is turned on. */
const signingToken = (h: z.output<typeof HttpForwarding>): string | undefined => {
  if (h.signature_enable === false) return undefined;
  if (h.signature_enable === true && h.token === undefined)
    throw errors.invalid('channel_detail.http_forwarding.token', 'is required when signature_enable is true');
  return h.token;
};

/** Ids are ours (24 hex); anything else names nothing. */
const ruleIdOf = (raw: string | undefined) => {
  if (!raw || !ID.test(raw)) throw errors.routingRuleNotFound(String(raw ?? ''));
  return raw;
};
const actionIdOf = (raw: string | undefined) => {
  if (!raw || !ID.test(raw)) throw errors.routingActionNotFound(String(raw ?? ''));
  return raw;
};

/** Strictly after `previous`, so an update conditional on the last value read always sees a change. */
const nextStamp = (deps: ManageRoutingRulesDeps, previous: number) => Math.max(deps.clock.now(), previous + 1);

const findRule = async (deps: ManageRoutingRulesDeps, project: string, ruleId: string) => {
  const rule = await deps.routingRules.getRule(project, ruleId);
  if (!rule) throw errors.routingRuleNotFound(ruleId);
  return rule;
};
const findAction = async (deps: ManageRoutingRulesDeps, project: string, actionId: string) => {
  const action = await deps.routingRules.getAction(project, actionId);
  if (!action) throw errors.routingActionNotFound(actionId);
  return action;
};

/** IoTDA CreateRoutingRule: a new rule is inactive until activated with UpdateRoutingRule. */
export const createRoutingRule = async (deps: ManageRoutingRulesDeps, project: string, body: unknown) => {
  const input = parseInput(CreateRuleBody, body);
  const where = checkedWhere(input.where);
  const now = deps.clock.now();
  const rule: RoutingRule = {
    projectId: project,
    ruleId: newListId(now),
    name: input.rule_name ?? '',
    ...(input.description !== undefined ? { description: input.description } : {}),
    resource: input.subject.resource,
    event: input.subject.event,
    ...(where !== undefined ? { where } : {}),
    active: false,
    createdAt: now,
    updatedAt: now,
  };
  // A fresh random id: taken only by a fault, which is a 500.
  if (!(await deps.routingRules.createRule(rule))) throw new Error(`routing rule id ${rule.ruleId} taken`);
  deps.logger.info('routing rule created', { project, ruleId: rule.ruleId });
  return ruleView(rule);
};

export const showRoutingRule = async (deps: ManageRoutingRulesDeps, project: string, rawRuleId: string | undefined) =>
  ruleView(await findRule(deps, project, ruleIdOf(rawRuleId)));

/** IoTDA ListRoutingRules: newest first, filtered by subject, name (substring) and state. */
export const listRoutingRules = async (deps: ManageRoutingRulesDeps, project: string, query: unknown) => {
  const q = parseInput(RuleListQuery, query);
  const page = await deps.routingRules.listRules(project, {
    resource: q.resource,
    event: q.event,
    nameContains: q.rule_name,
    active: q.active === undefined ? undefined : q.active === 'true',
    below: q.marker,
    offset: q.offset,
    limit: q.limit,
  });
  const last = page.items.at(-1);
  return { rules: page.items.map(ruleView), count: page.count, ...(last ? { marker: last.ruleId } : {}) };
};

/** IoTDA UpdateRoutingRule: the fields given replace the stored ones; `select` and `where` come together. */
export const updateRoutingRule = async (
  deps: ManageRoutingRulesDeps,
  project: string,
  rawRuleId: string | undefined,
  body: unknown,
) => {
  const ruleId = ruleIdOf(rawRuleId);
  const input = parseInput(UpdateRuleBody, body);
  if ((input.select === undefined) !== (input.where === undefined)) {
    const [missing, sent] = input.select === undefined ? ['select', 'where'] : ['where', 'select'];
    throw errors.invalid(missing, `is required when ${sent} is sent (IoTDA updates them together)`);
  }
  const where = input.where === undefined ? undefined : checkedWhere(input.where);
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const current = await findRule(deps, project, ruleId);
    const { where: _old, ...unconditional } = current;
    const next: RoutingRule = {
      // A `where` sent replaces the condition, and an empty one removes it.
      ...(input.where === undefined ? current : unconditional),
      ...(where !== undefined ? { where } : {}),
      ...(input.rule_name !== undefined ? { name: input.rule_name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      updatedAt: nextStamp(deps, current.updatedAt),
    };
    if (await deps.routingRules.replaceRule(next, current.updatedAt)) {
      deps.logger.info('routing rule updated', { project, ruleId, active: next.active });
      return ruleView(next);
    }
  }
  throw new Error(`routing rule ${ruleId} kept changing under its update`);
};

/** IoTDA DeleteRoutingRule: its actions go with it. */
export const deleteRoutingRule = async (
  deps: ManageRoutingRulesDeps,
  project: string,
  rawRuleId: string | undefined,
) => {
  const ruleId = ruleIdOf(rawRuleId);
  if (!(await deps.routingRules.deleteRule(project, ruleId))) throw errors.routingRuleNotFound(ruleId);
  deps.logger.info('routing rule deleted', { project, ruleId });
};

/** IoTDA CreateRuleAction: an HTTP forwarding target for an existing rule of the project. */
export const createRuleAction = async (deps: ManageRoutingRulesDeps, project: string, body: unknown) => {
  const input = parseInput(CreateActionBody, body);
  const http = input.channel_detail.http_forwarding;
  const url = await checkedUrl(deps, http.url);
  const token = signingToken(http);
  if (!ID.test(input.rule_id)) throw errors.routingRuleNotFound(input.rule_id);
  const now = deps.clock.now();
  const action: RoutingAction = {
    projectId: project,
    actionId: newListId(now),
    ruleId: input.rule_id,
    channel: 'HTTP_FORWARDING',
    url,
    ...(token !== undefined ? { token } : {}),
    createdAt: now,
    updatedAt: now,
  };
  const outcome = await deps.routingRules.createAction(action);
  if (outcome === 'no-rule') throw errors.routingRuleNotFound(action.ruleId);
  if (outcome === 'exists') throw new Error(`rule action id ${action.actionId} taken`); // a fresh random id: a 500
  deps.logger.info('rule action created', { project, ruleId: action.ruleId, actionId: action.actionId });
  return actionView(action);
};

export const showRuleAction = async (deps: ManageRoutingRulesDeps, project: string, rawActionId: string | undefined) =>
  actionView(await findAction(deps, project, actionIdOf(rawActionId)));

/** IoTDA ListRuleActions: newest first, optionally one rule's. */
export const listRuleActions = async (deps: ManageRoutingRulesDeps, project: string, query: unknown) => {
  const q = parseInput(ActionListQuery, query);
  const page = await deps.routingRules.listActions(project, {
    ruleId: q.rule_id,
    below: q.marker,
    offset: q.offset,
    limit: q.limit,
  });
  const last = page.items.at(-1);
  return { actions: page.items.map(actionView), count: page.count, ...(last ? { marker: last.actionId } : {}) };
};

/** IoTDA UpdateRuleAction: a given `channel_detail` replaces the URL and token whole. */
export const updateRuleAction = async (
  deps: ManageRoutingRulesDeps,
  project: string,
  rawActionId: string | undefined,
  body: unknown,
) => {
  const actionId = actionIdOf(rawActionId);
  const input = parseInput(UpdateActionBody, body);
  const http = input.channel_detail?.http_forwarding;
  const url = http && (await checkedUrl(deps, http.url));
  const token = http && signingToken(http);
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const current = await findAction(deps, project, actionId);
    // An action whose rule is being deleted is going too.
    if (!(await deps.routingRules.getRule(project, current.ruleId))) throw errors.routingActionNotFound(actionId);
    const { token: _t, ...rest } = current;
    const next: RoutingAction = {
      ...(http ? { ...rest, url: url!, ...(token !== undefined ? { token } : {}) } : current),
      updatedAt: nextStamp(deps, current.updatedAt),
    };
    if (await deps.routingRules.replaceAction(next, current.updatedAt)) {
      deps.logger.info('rule action updated', { project, actionId });
      return actionView(next);
    }
  }
  throw new Error(`rule action ${actionId} kept changing under its update`);
};

export const deleteRuleAction = async (
  deps: ManageRoutingRulesDeps,
  project: string,
  rawActionId: string | undefined,
) => {
  const actionId = actionIdOf(rawActionId);
  if (!(await deps.routingRules.deleteAction(project, actionId))) throw errors.routingActionNotFound(actionId);
  deps.logger.info('rule action deleted', { project, actionId });
};
