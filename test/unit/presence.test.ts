import { describe, expect, it } from 'vitest';
import { applyPresence, type Presence, type PresenceEvent } from '../../shared/domain/presence.ts';

const connected = (session: string, at: number): PresenceEvent => ({ kind: 'connected', session, at });
const subscribed = (session: string, at: number): PresenceEvent => ({ kind: 'subscribed', session, at });
const disconnected = (session: string, at: number): PresenceEvent => ({ kind: 'disconnected', session, at });

/** Applies events in the given order, as the presence worker would, and returns the final state. */
const replay = (events: PresenceEvent[], start: Presence = {}): Presence =>
  events.reduce((cur, e) => {
    const out = applyPresence(cur, e);
    return out === 'stale' ? cur : out.next;
  }, start);

describe('applyPresence', () => {
  it('goes ONLINE on connect, subscribed on subscribe, OFFLINE on disconnect', () => {
    const a = applyPresence({}, connected('s1', 100));
    expect(a).toMatchObject({
      statusChanged: true,
      next: { status: 'ONLINE', session: 's1', subscribed: false, lastOnlineAt: 100 },
    });
    const b = replay([connected('s1', 100), subscribed('s1', 101)]);
    expect(b).toMatchObject({ status: 'ONLINE', subscribed: true });
    expect(replay([connected('s1', 100), subscribed('s1', 101), disconnected('s1', 200)])).toMatchObject({
      status: 'OFFLINE',
      subscribed: false,
      statusAt: 200,
    });
  });

  it('treats a repeated event as stale', () => {
    const once = replay([connected('s1', 100)]);
    expect(applyPresence(once, connected('s1', 100))).toBe('stale');
    const off = replay([connected('s1', 100), disconnected('s1', 200)]);
    expect(applyPresence(off, disconnected('s1', 200))).toBe('stale');
    const sub = replay([connected('s1', 100), subscribed('s1', 101)]);
    expect(applyPresence(sub, subscribed('s1', 101))).toBe('stale');
  });

  it('keeps a reconnected device ONLINE when the previous session disconnect arrives late', () => {
    const state = replay([connected('s1', 100), connected('s2', 300), disconnected('s1', 250)]);
    expect(state).toMatchObject({ status: 'ONLINE', session: 's2' });
  });

  it('keeps the device ONLINE when its replaced session is closed after the new one connected', () => {
    const state = replay([connected('s1', 100), connected('s2', 300), disconnected('s1', 301)]);
    expect(state).toMatchObject({ status: 'ONLINE', session: 's2' });
  });

  it('ignores a connect that arrives after its own disconnect', () => {
    const state = replay([disconnected('s1', 200), connected('s1', 100)]);
    expect(state.status).toBeUndefined();
    const later = replay([connected('s0', 50), disconnected('s0', 60), disconnected('s1', 200), connected('s1', 100)]);
    expect(later).toMatchObject({ status: 'OFFLINE', session: 's0' });
  });

  it('lets a new session connected in the millisecond its predecessor disconnected take over', () => {
    expect(replay([connected('s1', 100), disconnected('s1', 200), connected('s2', 200)])).toMatchObject({
      status: 'ONLINE',
      session: 's2',
    });
    expect(replay([connected('s1', 100), connected('s2', 100)])).toMatchObject({ session: 's1' }); // both live: the first stays
  });

  it('ignores a connect older than the current session', () => {
    const state = replay([connected('s2', 300), connected('s1', 100)]);
    expect(state).toMatchObject({ status: 'ONLINE', session: 's2' });
  });

  it('reaches the same final state in any order of one session events', () => {
    const events = [connected('s1', 100), subscribed('s1', 101), disconnected('s1', 200)];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const state = replay(
        order.map((i) => events[i]!),
        { status: 'OFFLINE', session: 's0', at: 10 },
      );
      expect(state.status, `order ${order.join(',')}`).toBe('OFFLINE');
    }
  });

  it('records which event changed the status, so its notification can be sent again', () => {
    const state = replay([connected('s1', 100), subscribed('s1', 101)]);
    expect(state.statusEvent).toBe('s1#100#connected');
  });

  it('treats a subscription whose connect has not arrived as the start of the session', () => {
    const state = replay([disconnected('s0', 50), subscribed('s1', 101), connected('s1', 100)]);
    expect(state).toMatchObject({ status: 'ONLINE', session: 's1', subscribed: true });
  });
});
