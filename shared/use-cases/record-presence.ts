import { z } from 'zod';
import { deviceIdOfClient } from '../domain/device-auth.ts';
import { deviceHeader, envelope } from '../domain/notifications.ts';
import { applyPresence, presenceEventKey, type PresenceEvent } from '../domain/presence.ts';
import { deviceTopicPrefix } from '../domain/topics.ts';
import type { Deps } from '../deps.ts';
import { stableUuid } from '../ids.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { compactUtc } from '../time.ts';

/** AWS IoT lifecycle event ($aws/events/presence/... and $aws/events/subscriptions/...), the fields we use. */
const LifecycleEvent = z.object({
  clientId: z.string(),
  timestamp: z.number(),
  eventType: z.enum(['connected', 'disconnected', 'subscribed', 'unsubscribed']),
  sessionIdentifier: z.string(),
  topics: z.array(z.string()).optional(),
});

export type PresenceResult = 'applied' | 'stale' | 'ignored' | 'unknown-device';

const MAX_ATTEMPTS = 8;

const toPresenceEvent = (deps: Deps, raw: unknown): { deviceId: string; event: PresenceEvent } | undefined => {
  const parsed = LifecycleEvent.safeParse(raw);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  const deviceId = deviceIdOfClient(e.clientId);
  if (!deviceId || e.eventType === 'unsubscribed') return undefined;
  // Only a subscription to its own system topics means the device can now receive downlink traffic.
  const sysPrefix = `${deviceTopicPrefix(deps.config.topicRoot, deviceId)}sys/`;
  if (e.eventType === 'subscribed' && !e.topics?.some((t) => t.startsWith(sysPrefix))) return undefined;
  return { deviceId, event: { kind: e.eventType, session: e.sessionIdentifier, at: e.timestamp } };
};

const notifyStatus = (deps: Deps, device: DeviceRecord, eventKey: string) => {
  const p = device.presence;
  return deps.notifier.send(
    envelope({
      resource: 'device.status',
      event: 'update',
      at: p.statusAt ?? deps.clock.now(),
      // Derived from the event, so a retried event re-sends the same request_id and consumers drop the copy.
      requestId: stableUuid('device.status', device.deviceId, eventKey),
      header: deviceHeader(device),
      body: {
        status: p.status,
        last_online_time: p.lastOnlineAt !== undefined ? compactUtc(p.lastOnlineAt) : undefined,
        status_update_time: p.statusAt !== undefined ? compactUtc(p.statusAt) : undefined,
      },
    }),
  );
};

/**
 * Applies one lifecycle event to the device's presence with an optimistic conditional write, and
 * notifies a status change. Safe to run twice: a replay finds its event already applied and only
 * re-sends the notification, in case the first run died between the write and the send.
 */
export const recordPresence = async (deps: Deps, raw: unknown): Promise<PresenceResult> => {
  const parsed = toPresenceEvent(deps, raw);
  if (!parsed) return 'ignored';
  const { deviceId, event } = parsed;
  const key = presenceEventKey(event);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const device = await deps.devices.get(deviceId);
    if (!device) return 'unknown-device';
    const outcome = applyPresence(device.presence, event);
    if (outcome === 'stale') {
      if (device.presence.statusEvent === key) await notifyStatus(deps, device, key);
      return 'stale';
    }
    if (!(await deps.devices.savePresence(deviceId, outcome.next, device.rev))) continue; // lost a race: re-read
    if (outcome.statusChanged) await notifyStatus(deps, { ...device, presence: outcome.next }, key);
    return 'applied';
  }
  throw new Error(`presence for ${deviceId} kept losing write races`);
};
