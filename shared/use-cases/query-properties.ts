import * as z from 'zod';
import { checkPropertyQuery } from '../domain/product-model.ts';
import { parseInput } from '../validation.ts';
import { type SendSyncRequestDeps, sendSyncRequest, syncTimeout } from './send-sync-request.ts';

// IoTDA §2.3: service_id is a required query parameter.
const PropertiesQuery = z.object({ service_id: z.string().min(1).max(64) });

export const queryProperties = async (
  deps: SendSyncRequestDeps,
  project: string,
  deviceId: string | undefined,
  query: unknown,
) => {
  const input = parseInput(PropertiesQuery, query);
  const outcome = await sendSyncRequest(deps, {
    project,
    deviceId,
    kind: 'properties-get',
    payload: { service_id: input.service_id },
    check: (model) => checkPropertyQuery(model, input.service_id),
  });
  return 'timedOut' in outcome
    ? { request_id: outcome.requestId, response: null, ...syncTimeout }
    : { request_id: outcome.requestId, response: outcome.response };
};
