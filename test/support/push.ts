import { afterAll, expect } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { type ReceivedPush, type ReceiverOptions, startPushReceiver } from '../../tools/push-receiver.ts';
import { createApiToken } from '../../shared/use-cases/manage-api-tokens.ts';
import { apiClient, ensureProduct } from './runtime.ts';

// Receivers live until the file's tests end, not the test's: a rule made by one test keeps pushing to its
// receiver during the next ones, and a closed receiver would leave those pushes retrying.
const receivers = new Set<{ close(): Promise<void> }>();
afterAll(() => Promise.all([...receivers].map((r) => r.close())));

/** A receiver on a free port that records every push; closed when the file's tests end. */
export const startReceiver = async (opts: Omit<ReceiverOptions, 'onPush'> = {}) => {
  const got: ReceivedPush[] = [];
  const receiver = await startPushReceiver({ ...opts, onPush: (p) => got.push(p) });
  receivers.add(receiver);
  return { ...receiver, got };
};

/** An API client for `project` (the bootstrap project unless told), with its routing-rule calls. */
export const pushClient = async (runtime: Runtime, project = runtime.project) => {
  const token =
    project === runtime.project ? runtime.token : (await createApiToken(runtime.deps, [project], project)).token;
  const api = apiClient(runtime, token);
  const base = `/v5/iot/${project}/routing-rule`;
  /** An active rule for `resource` with one HTTP_FORWARDING action to `url`. */
  const route = async (resource: string, url: string, opts: { token?: string; where?: string } = {}) => {
    const rule = await api.call('POST', `${base}/rules`, {
      rule_name: `to ${url}`,
      subject: { resource, event: 'update' },
      app_type: 'APP',
      ...(opts.where ? { select: '*', where: opts.where } : {}),
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const ruleId = rule.body.rule_id as string;
    const action = await api.call('POST', `${base}/actions`, {
      rule_id: ruleId,
      channel: 'HTTP_FORWARDING',
      channel_detail: { http_forwarding: { url, ...(opts.token ? { token: opts.token } : {}) } },
    });
    expect(action.status, JSON.stringify(action.body)).toBe(201);
    expect((await api.call('PUT', `${base}/rules/${ruleId}`, { active: true })).status).toBe(200);
    return { ruleId, actionId: action.body.action_id as string };
  };
  const setActive = async (ruleId: string, active: boolean) =>
    expect((await api.call('PUT', `${base}/rules/${ruleId}`, { active })).status).toBe(200);
  /** Sends a message to a device (offline is fine): its PENDING notification follows. */
  const message = async (deviceId: string, messageId: string) => {
    const res = await api.call('POST', `/v5/iot/${project}/devices/${deviceId}/messages`, {
      message_id: messageId,
      message: messageId,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  /** Registers a free-form device in the project. */
  const device = async () => {
    // Product ids are unique across projects.
    await ensureProduct(runtime, `push-${project}`, [], token, project);
    const res = await api.call('POST', `/v5/iot/${project}/devices`, {
      node_id: `n-${Math.random().toString(36).slice(2)}`,
      product_id: `push-${project}`,
      auth_info: { secret: 'secret-push-1' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.device_id as string;
  };
  return { api, base, route, setActive, message, device };
};

/** The pushes of one message id, by status. */
export const messagePushes = (got: ReceivedPush[], messageId: string) =>
  got.filter((p) => p.envelope.notify_data.body.message_id === messageId);
