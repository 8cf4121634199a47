/**
 * Device presence from lifecycle events (CONTRACT.md §1 status, DESIGN.md flows). AWS lifecycle events
 * promise neither order nor uniqueness, so each event is judged against the state it would change:
 * - a disconnect ends only its own session: a previous session's late disconnect (or one closed because
 *   the device connected again) never marks the current session OFFLINE; the session is remembered as
 *   ended, so its own connect, should that come later, changes nothing;
 * - between sessions that have not ended, the newer connect (by event time) is the current one; a connect
 *   in the same millisecond as the current session's end is newer.
 */

export type DeviceStatus = 'ONLINE' | 'OFFLINE';
export type PresenceKind = 'connected' | 'subscribed' | 'disconnected';

export interface Presence {
  status?: DeviceStatus; // absent until the device first connects (shown as INACTIVE)
  at?: number; // time of the current session's newest event
  session?: string; // the current session
  clientId?: string; // the current session's MQTT client id, to cut it when the device is deleted
  subscribed?: boolean; // the current session subscribed to its system topics and can receive
  subscribedEvent?: string; // key of the event that set `subscribed`, so its replay can finish the work it began
  ended?: string[]; // recently ended sessions that were not the current one
  lastOnlineAt?: number;
  statusAt?: number;
  statusEvent?: string; // key of the event that last changed the status, to re-send its notification
}

export interface PresenceEvent {
  kind: PresenceKind;
  session: string;
  at: number;
  clientId?: string;
}

/** Ended sessions remembered; a late connect older than this many reconnects is judged by time alone. */
const ENDED_KEPT = 8;

export const presenceEventKey = (e: PresenceEvent): string => `${e.session}#${e.at}#${e.kind}`;

export type PresenceOutcome = { next: Presence; statusChanged: boolean } | 'stale';

const change = (cur: Presence, e: PresenceEvent, status: DeviceStatus, rest: Presence): PresenceOutcome => {
  const statusChanged = cur.status !== status;
  return {
    statusChanged,
    next: {
      ...cur,
      ...rest,
      status,
      session: e.session,
      clientId: e.clientId ?? cur.clientId,
      at: cur.session === e.session ? Math.max(cur.at ?? e.at, e.at) : e.at,
      statusAt: statusChanged ? e.at : cur.statusAt,
      statusEvent: statusChanged ? presenceEventKey(e) : cur.statusEvent,
    },
  };
};

// A session that has ended cannot be the live one: a new session seen in the same millisecond as its end
// (event times have millisecond precision; a quick reconnect shares one) takes over.
const startsSession = (cur: Presence, e: PresenceEvent): boolean =>
  !cur.ended?.includes(e.session) &&
  (cur.at === undefined || e.at > cur.at || (e.at === cur.at && cur.status === 'OFFLINE'));

export const applyPresence = (cur: Presence, e: PresenceEvent): PresenceOutcome => {
  const current = cur.session === e.session;
  switch (e.kind) {
    case 'connected':
      if (current || !startsSession(cur, e)) return 'stale';
      return change(cur, e, 'ONLINE', { subscribed: false, lastOnlineAt: e.at });
    case 'subscribed':
      if (current)
        return cur.status === 'ONLINE' && !cur.subscribed
          ? change(cur, e, 'ONLINE', { subscribed: true, subscribedEvent: presenceEventKey(e) })
          : 'stale';
      // Its connect has not arrived yet: a subscription says just as well that the session is up.
      if (!startsSession(cur, e)) return 'stale';
      return change(cur, e, 'ONLINE', { subscribed: true, subscribedEvent: presenceEventKey(e), lastOnlineAt: e.at });
    case 'disconnected':
      if (current) return cur.status === 'OFFLINE' ? 'stale' : change(cur, e, 'OFFLINE', { subscribed: false });
      if (cur.ended?.includes(e.session)) return 'stale';
      return {
        statusChanged: false,
        next: { ...cur, ended: [...(cur.ended ?? []), e.session].slice(-ENDED_KEPT) },
      };
  }
};
