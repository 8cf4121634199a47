/**
 * Device topics (CONTRACT.md §2, IoTDA §4.3) under a selectable root: `oc` on AWS IoT Core, which reserves
 * every `$` topic, and `oc` or `$oc` locally.
 */
export type TopicRoot = 'oc' | '$oc';

export const deviceTopicPrefix = (root: TopicRoot, deviceId: string): string => `${root}/devices/${deviceId}/`;

/** The filter CONTRACT.md §2 tells devices to subscribe (AWS subscribes nobody implicitly). */
export const deviceSysFilter = (root: TopicRoot, deviceId: string): string => `${root}/devices/${deviceId}/sys/#`;

/**
 * The platform-to-device system topics (IoTDA §4.3), which IoTDA subscribes a device to implicitly and the
 * local broker does on connect. Narrower than `sys/#`: a device is not sent back its own uplink publishes.
 */
export const deviceDownlinkFilters = (root: TopicRoot, deviceId: string): string[] =>
  [
    'sys/messages/down',
    'sys/commands/+',
    'sys/properties/set/+',
    'sys/properties/get/+',
    'sys/shadow/get/response/+',
    'sys/events/down',
  ].map((suffix) => `${deviceTopicPrefix(root, deviceId)}${suffix}`);

/**
 * A device may publish or subscribe only under its own `{root}/devices/{id}/`. A wildcard may appear only
 * after that prefix, so `+` or `#` can never stand for another device.
 */
export const isDeviceOwnTopic = (root: TopicRoot, deviceId: string, topic: string): boolean => {
  const prefix = deviceTopicPrefix(root, deviceId);
  if (!topic.startsWith(prefix) || topic.length === prefix.length) return false;
  return !topic.includes('\u0000');
};
