/**
 * Device presence from lifecycle events (CONTRACT.md §1 status, DESIGN.md flows). Events can repeat,
 * come late or out of order (AWS lifecycle events promise neither order nor uniqueness), so each one
 * is judged against the state it would replace:
 * - within one session, the session id decides: a disconnect ends its own session whatever its time;
 * - across sessions, the event time decides: an event older than the recorded one changes nothing,
 *   so a previous session's late disconnect never marks a reconnected device OFFLINE.
 */

export type DeviceStatus = 'ONLINE' | 'OFFLINE';
export type PresenceKind = 'connected' | 'subscribed' | 'disconnected';

export interface Presence {
  status?: DeviceStatus; // absent until the device first connects (shown as INACTIVE)
  at?: number; // time of the newest event applied
  session?: string; // session that event belonged to
  subscribed?: boolean; // the current session has subscribed and can receive
  lastOnlineAt?: number;
  statusAt?: number;
  statusEvent?: string; // key of the event that last changed the status, to re-send its notification
}

export interface PresenceEvent {
  kind: PresenceKind;
  session: string;
  at: number;
}

export const presenceEventKey = (e: PresenceEvent): string => `${e.session}#${e.at}#${e.kind}`;

export type PresenceOutcome = { next: Presence; statusChanged: boolean } | 'stale';

const isNewer = (cur: Presence, e: PresenceEvent): boolean => cur.at === undefined || e.at > cur.at;

const withStatus = (cur: Presence, e: PresenceEvent, status: DeviceStatus, rest: Presence): PresenceOutcome => {
  const statusChanged = cur.status !== status;
  return {
    statusChanged,
    next: {
      ...cur,
      ...rest,
      status,
      session: e.session,
      at: Math.max(cur.at ?? e.at, e.at),
      statusAt: statusChanged ? e.at : cur.statusAt,
      statusEvent: statusChanged ? presenceEventKey(e) : cur.statusEvent,
    },
  };
};

export const applyPresence = (cur: Presence, e: PresenceEvent): PresenceOutcome => {
  const sameSession = cur.session === e.session;
  switch (e.kind) {
    case 'connected':
      if (!isNewer(cur, e)) return 'stale';
      return withStatus(cur, e, 'ONLINE', { subscribed: false, lastOnlineAt: e.at });
    case 'subscribed':
      if (sameSession && cur.status === 'ONLINE') {
        if (cur.subscribed) return 'stale';
        return withStatus(cur, e, 'ONLINE', { subscribed: true });
      }
      // Its connect has not been seen yet (or was lost): a newer subscription also says the device is online.
      if (!isNewer(cur, e)) return 'stale';
      return withStatus(cur, e, 'ONLINE', { subscribed: true, lastOnlineAt: e.at });
    case 'disconnected':
      if (sameSession) {
        if (cur.status === 'OFFLINE') return 'stale';
        return withStatus(cur, e, 'OFFLINE', { subscribed: false });
      }
      // A disconnect newer than anything seen ends that session even if its connect comes later.
      if (!isNewer(cur, e)) return 'stale';
      return withStatus(cur, e, 'OFFLINE', { subscribed: false });
  }
};
