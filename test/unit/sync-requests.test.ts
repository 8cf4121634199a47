import { describe, expect, it } from 'vitest';
import {
  parseResponseTopic,
  requestTopic,
  responseBody,
  responseTopicFilter,
} from '../../shared/domain/sync-requests.ts';
import { topicMatches } from '../../local/iot-rules.ts';

describe('sync request topics', () => {
  it('builds the IoTDA request topics under the root', () => {
    expect(requestTopic('oc', 'd1', 'command', 'r1')).toBe('oc/devices/d1/sys/commands/request_id=r1');
    expect(requestTopic('$oc', 'd1', 'properties-set', 'r1')).toBe('$oc/devices/d1/sys/properties/set/request_id=r1');
    expect(requestTopic('oc', 'd1', 'properties-get', 'r1')).toBe('oc/devices/d1/sys/properties/get/request_id=r1');
  });

  it('parses each response topic and refuses anything else', () => {
    expect(parseResponseTopic('oc', 'oc/devices/d_1/sys/commands/response/request_id=r1')).toEqual({
      deviceId: 'd_1',
      kind: 'command',
      requestId: 'r1',
    });
    expect(parseResponseTopic('oc', 'oc/devices/d1/sys/properties/get/response/request_id=x')?.kind).toBe(
      'properties-get',
    );
    for (const bad of [
      'oc/devices/d1/sys/commands/request_id=r1',
      'oc/devices/d1/sys/commands/response/r1',
      'oc/devices/d1/sys/commands/response/request_id=',
      'oc/devices/d1/sys/shadow/get/response/request_id=r1',
      '$oc/devices/d1/sys/commands/response/request_id=r1',
    ])
      expect(parseResponseTopic('oc', bad), bad).toBeUndefined();
  });

  it('has response filters that match the response topics and stay within IoT Core 7 slashes', () => {
    for (const kind of ['command', 'properties-set', 'properties-get'] as const) {
      const filter = responseTopicFilter('oc', kind);
      const topic = requestTopic('oc', 'd1', kind, 'r9').replace('/request_id=', '/response/request_id=');
      expect(topicMatches(filter, topic)).toBe(true);
      expect(topic.split('/').length - 1).toBeLessThanOrEqual(7);
    }
  });

  it('passes a device answer through as JSON, or as its text when it is not JSON', () => {
    expect(responseBody('{"result_code":0,"paras":{"a":1}}')).toEqual({ result_code: 0, paras: { a: 1 } });
    expect(responseBody('not json')).toBe('not json');
  });
});
