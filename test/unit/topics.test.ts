import { describe, expect, it } from 'vitest';
import { deviceDownlinkFilters, deviceSysFilter, isDeviceOwnTopic } from '../../shared/domain/topics.ts';

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

  it('subscribes devices implicitly to the downlink system topics only, not their own uplink', async () => {
    const { topicMatches } = await import('../../local/iot-rules.ts');
    const filters = deviceDownlinkFilters('oc', 'd1');
    const covered = (topic: string) => filters.some((f) => topicMatches(f, topic));
    for (const down of [
      'sys/messages/down',
      'sys/commands/request_id=1',
      'sys/properties/set/request_id=1',
      'sys/properties/get/request_id=1',
    ])
      expect(covered(`oc/devices/d1/${down}`), down).toBe(true);
    for (const up of [
      'sys/messages/up',
      'sys/commands/response/request_id=1',
      'sys/properties/report',
      'sys/properties/set/response/request_id=1',
    ])
      expect(covered(`oc/devices/d1/${up}`), up).toBe(false);
  });
});
