import * as z from 'zod';
import { deviceIdOfClient } from '../domain/device-auth.ts';
import { parseResponseTopic } from '../domain/sync-requests.ts';
import type { Deps } from '../ports/deps.ts';

/** The ports this use case uses. */
export type RecordDeviceResponseDeps = Pick<Deps, 'config' | 'logger' | 'responses'>;

/** What the response rule selects: the raw payload (base64, so any bytes survive), its topic and client id. */
const RuleEvent = z.object({ payload: z.string(), topic: z.string(), clientid: z.string().optional() });

export type ResponseResult = 'recorded' | 'dropped';

/**
 * Stores a device's answer under its request id, device and kind, for the waiting API call. Dropped when the
 * topic is not a response topic, when the publisher is not the device the topic names, or when this device
 * already answered this request. An answer to a request never sent to this device is stored and never read:
 * its caller waits on the key of the device it sent the request to.
 */
export const recordDeviceResponse = async (deps: RecordDeviceResponseDeps, raw: unknown): Promise<ResponseResult> => {
  const event = RuleEvent.safeParse(raw);
  const parsed = event.success ? parseResponseTopic(deps.config.topicRoot, event.data.topic) : undefined;
  if (!event.success || !parsed) return 'dropped';
  const publisher = event.data.clientid && deviceIdOfClient(event.data.clientid);
  if (publisher !== undefined && publisher !== parsed.deviceId) return 'dropped';
  const text = Buffer.from(event.data.payload, 'base64').toString('utf8');
  const recorded = await deps.responses.respond(parsed, text);
  if (!recorded) deps.logger.info('device response dropped', { ...parsed });
  return recorded ? 'recorded' : 'dropped';
};
