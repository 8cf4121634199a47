import { describe, expect, it } from 'vitest';
import { deviceSysFilter, isDeviceOwnTopic } from '../../shared/domain/topics.ts';

describe('device topic ACL', () => {
  it('allows topics and filters under the device own prefix', () => {
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/d1/sys/messages/up')).toBe(true);
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/d1/sys/#')).toBe(true);
    expect(isDeviceOwnTopic('$oc', 'd1', '$oc/devices/d1/user/anything')).toBe(true);
  });

  it('refuses other devices, wildcards in the device level, the bare prefix and other roots', () => {
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/d2/sys/messages/up')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/d10/sys/messages/up')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/+/sys/#')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/#')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', '#')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', 'oc/devices/d1/')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', '$oc/devices/d1/sys/messages/up')).toBe(false);
    expect(isDeviceOwnTopic('oc', 'd1', '$aws/events/presence/connected/d1')).toBe(false);
  });

  it('subscribes devices to their system topics', () => {
    expect(deviceSysFilter('oc', 'd1')).toBe('oc/devices/d1/sys/#');
    expect(deviceSysFilter('$oc', 'd1')).toBe('$oc/devices/d1/sys/#');
  });
});
