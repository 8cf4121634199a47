import * as z from 'zod';
import { checkCommand } from '../domain/product-model.ts';
import { parseInput } from '../validation.ts';
import { rejectOversized } from '../payload-limits.ts';
import { type SendSyncRequestDeps, sendSyncRequest, syncTimeout } from './send-sync-request.ts';

// IoTDA §2.1 DeviceCommandRequest: paras is a JSON object (strings are not accepted).
export const CommandBody = z.object({
  service_id: z.string().max(64).optional(),
  command_name: z.string().max(128).optional(),
  paras: z.record(z.string(), z.unknown()),
});

/** What the device is sent on its command topic (IoTDA §4.4), from a validated body. */
export const commandPayload = (input: z.output<typeof CommandBody>) => {
  const payload = { service_id: input.service_id, command_name: input.command_name, paras: input.paras };
  rejectOversized(payload);
  return payload;
};

export const createCommand = async (
  deps: SendSyncRequestDeps,
  project: string,
  deviceId: string | undefined,
  body: unknown,
) => {
  const payload = commandPayload(parseInput(CommandBody, body));
  const outcome = await sendSyncRequest(deps, {
    project,
    deviceId,
    kind: 'command',
    payload,
    check: (model) => checkCommand(model, payload),
  });
  // The command id is the request_id the device saw in its topic (IoTDA §4.2).
  return 'timedOut' in outcome
    ? { command_id: outcome.requestId, response: null, ...syncTimeout }
    : { command_id: outcome.requestId, response: outcome.response };
};
