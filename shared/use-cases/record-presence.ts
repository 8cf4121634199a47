import * as z from 'zod';
import { deviceIdOfClient } from '../domain/device-auth.ts';
import { deviceHeader, envelope } from '../domain/notifications.ts';
import { applyPresence, presenceEventKey, type PresenceEvent } from '../domain/presence.ts';
import { deviceTopicPrefix } from '../domain/topics.ts';
import type { Deps } from '../ports/deps.ts';
import { stableUuid } from '../ids.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { compactUtc } from '../time.ts';
import { flushPendingMessages, type MessageLifecycleDeps } from './message-lifecycle.ts';

/** The ports this use case uses. */
export type RecordPresenceDeps = Pick<Deps, 'clock' | 'config' | 'devices' | 'notifier'> & MessageLifecycleDeps;

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

const toPresenceEvent = (
  deps: RecordPresenceDeps,
  raw: unknown,
): { deviceId: string; event: PresenceEvent } | undefined => {
  const parsed = LifecycleEvent.safeParse(raw);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  const deviceId = deviceIdOfClient(e.clientId);
  if (!deviceId || e.eventType === 'unsubscribed') return undefined;
  // Only a subscription to its own system topics means the device can now receive downlink traffic.
  const sysPrefix = `${deviceTopicPrefix(deps.config.topicRoot, deviceId)}sys/`;
  if (e.eventType === 'subscribed' && !e.topics?.some((t) => t.startsWith(sysPrefix))) return undefined;
  return {
    deviceId,
    event: { kind: e.eventType, session: e.sessionIdentifier, at: e.timestamp, clientId: e.clientId },
  };
};

/** One device's events are applied in queue order: they would otherwise race each other's writes. */
export const presenceOrderKey = (raw: unknown): string | undefined => {
  const clientId = (raw as { clientId?: unknown } | null)?.clientId;
  return typeof clientId === 'string' ? deviceIdOfClient(clientId) : undefined;
};

const notifyStatus = (deps: RecordPresenceDeps, device: DeviceRecord, eventKey: string) => {
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

/** Applies the event with an optimistic conditional write; returns the device as it now stands. */
const applyEvent = async (deps: RecordPresenceDeps, deviceId: string, event: PresenceEvent) => {
  const key = presenceEventKey(event);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const device = await deps.devices.get(deviceId);
    if (!device) return { result: 'unknown-device' as const };
    const outcome = applyPresence(device.presence, event);
    if (outcome === 'stale') {
      if (device.presence.statusEvent === key) await notifyStatus(deps, device, key);
      return { result: 'stale' as const, device };
    }
    if (!(await deps.devices.savePresence(device, outcome.next, device.rev))) continue; // lost a race: re-read
    const updated = { ...device, presence: outcome.next, rev: device.rev + 1 };
    if (outcome.statusChanged) await notifyStatus(deps, updated, key);
    return { result: 'applied' as const, device: updated };
  }
  throw new Error(`presence for ${deviceId} kept losing write races`);
};

/**
 * Applies one lifecycle event to the device's presence and notifies a status change. When the event is the
 * subscription that made the current session able to receive, its PENDING messages are sent. Safe to run
 * twice: a replay finds its event applied, re-sends the status notification and flushes again, in case the
 * first run died on the way (each message moves PENDING→DELIVERED at most once). A later subscription in
 * the same session flushes nothing: the first one did.
 */
export const recordPresence = async (deps: RecordPresenceDeps, raw: unknown): Promise<PresenceResult> => {
  const parsed = toPresenceEvent(deps, raw);
  if (!parsed) return 'ignored';
  const { result, device } = await applyEvent(deps, parsed.deviceId, parsed.event);
  const p = device?.presence;
  if (device && p?.status === 'ONLINE' && p.subscribed && p.subscribedEvent === presenceEventKey(parsed.event))
    await flushPendingMessages(deps, device);
  return result;
};
