/**
 * Device topics (CONTRACT.md §2, IoTDA §4.3) under a selectable root: `oc` on AWS IoT Core, which reserves
 * every `$` topic, and `oc` or `$oc` locally.
 */
export type TopicRoot = 'oc' | '$oc';

export const deviceTopicPrefix = (root: TopicRoot, deviceId: string): string => `${root}/devices/${deviceId}/`;

/** The filter the broker subscribes a device to on connect, and that devices subscribe on AWS. */
export const deviceSysFilter = (root: TopicRoot, deviceId: string): string => `${root}/devices/${deviceId}/sys/#`;

/**
 * A device may publish or subscribe only under its own `{root}/devices/{id}/`. A wildcard may appear only
 * after that prefix, so `+` or `#` can never stand for another device.
 */
export const isDeviceOwnTopic = (root: TopicRoot, deviceId: string, topic: string): boolean => {
  const prefix = deviceTopicPrefix(root, deviceId);
  if (!topic.startsWith(prefix) || topic.length === prefix.length) return false;
  return !topic.includes('\u0000');
};
