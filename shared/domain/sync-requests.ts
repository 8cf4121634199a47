import { findUnstorableJson } from '../validation.ts';
import type { TopicRoot } from './topics.ts';

/**
 * The three synchronous request kinds and their topics (IoTDA §4.3): the platform publishes on
 * `.../sys/{path}/request_id={id}` and the device answers on `.../sys/{path}/response/request_id={id}`.
 */
export type SyncKind = 'command' | 'properties-set' | 'properties-get';

const PATHS: Record<SyncKind, string> = {
  command: 'commands',
  'properties-set': 'properties/set',
  'properties-get': 'properties/get',
};

export const SYNC_KINDS = Object.keys(PATHS) as SyncKind[];

export const requestTopic = (root: TopicRoot, deviceId: string, kind: SyncKind, requestId: string): string =>
  `${root}/devices/${deviceId}/sys/${PATHS[kind]}/request_id=${requestId}`;

/** The response topic filters, one per kind; the IoT rules listen on these. */
export const responseTopicFilter = (root: TopicRoot, kind: SyncKind): string =>
  `${root}/devices/+/sys/${PATHS[kind]}/response/+`;

export interface ResponseTopic {
  deviceId: string;
  kind: SyncKind;
  requestId: string;
}

export const parseResponseTopic = (root: TopicRoot, topic: string): ResponseTopic | undefined => {
  const prefix = `${root}/devices/`;
  if (!topic.startsWith(prefix)) return undefined;
  const [deviceId, sys, ...rest] = topic.slice(prefix.length).split('/');
  if (!deviceId || sys !== 'sys') return undefined;
  const last = rest.pop();
  if (rest.pop() !== 'response' || !last?.startsWith('request_id=')) return undefined;
  const kind = SYNC_KINDS.find((k) => PATHS[k] === rest.join('/'));
  const requestId = last.slice('request_id='.length);
  return kind && requestId ? { deviceId, kind, requestId } : undefined;
};

/**
 * The device's answer as the API returns it: the JSON it published, exactly; a payload that is not JSON,
 * or whose JSON could not be returned as sent (nested past MAX_JSON_DEPTH, where the answer's stringify
 * overflowed the stack; a number JSON.parse changes), is passed through as its text, so the caller still
 * sees what the device said.
 */
export const responseBody = (text: string): unknown => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  return findUnstorableJson(value) ? text : value;
};
