import type { Deps } from '../ports/deps.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { finishMessage, type MessageLifecycleDeps } from './message-lifecycle.ts';

/** The ports this use case uses. */
export type SweepExpiredMessagesDeps = Pick<Deps, 'clock' | 'devices' | 'messages'> & MessageLifecycleDeps;

const PAGE = 200;

/**
 * The sweeper (DESIGN.md "Timeout"): moves every PENDING message past its deadline to TIMEOUT and notifies it.
 * Runs every minute; a message it races with (delivered meanwhile) keeps the status the first write gave.
 */
export const sweepExpiredMessages = async (deps: SweepExpiredMessagesDeps): Promise<number> => {
  const devices = new Map<string, DeviceRecord | undefined>();
  let swept = 0;
  for (;;) {
    const expired = await deps.messages.expiredPending(deps.clock.now(), PAGE);
    for (const key of expired) {
      const m = await deps.messages.get(key);
      if (!devices.has(key.deviceId)) devices.set(key.deviceId, await deps.devices.get(key.deviceId));
      const device = devices.get(key.deviceId);
      if (!m || m.status !== 'PENDING') continue;
      // Left by a device delete that was cut short (or raced a send): the registration is gone, and so is its message.
      if (device?.generation !== m.generation) await deps.messages.remove(m);
      else if ((await finishMessage(deps, device, m, 'TIMEOUT')).ended) swept++;
    }
    if (expired.length < PAGE) return swept;
  }
};
