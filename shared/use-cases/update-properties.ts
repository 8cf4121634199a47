import * as z from 'zod';
import { checkPropertySet } from '../domain/product-model.ts';
import { rejectOversized } from '../payload-limits.ts';
import { parseInput } from '../validation.ts';
import { type SendSyncRequestDeps, sendSyncRequest, syncTimeout } from './send-sync-request.ts';

// IoTDA §2.2 DevicePropertiesRequest: a list of {service_id, properties}.
const PropertiesBody = z.object({
  services: z
    .array(z.object({ service_id: z.string().min(1).max(64), properties: z.record(z.string(), z.unknown()) }))
    .min(1),
});

export const updateProperties = async (
  deps: SendSyncRequestDeps,
  project: string,
  deviceId: string | undefined,
  body: unknown,
) => {
  const input = parseInput(PropertiesBody, body);
  const payload = { services: input.services };
  rejectOversized(payload);
  const outcome = await sendSyncRequest(deps, {
    project,
    deviceId,
    kind: 'properties-set',
    payload,
    check: (model) => checkPropertySet(model, payload),
  });
  return 'timedOut' in outcome
    ? { request_id: outcome.requestId, response: null, ...syncTimeout }
    : { request_id: outcome.requestId, response: outcome.response };
};
