import type { Deps } from '../../shared/ports/deps.ts';
import { invokedHandler } from '../../shared/handler-stack.ts';
import { recordDeviceResponse } from '../../shared/use-cases/record-device-response.ts';
import { lambda } from '../deps.ts';

/** Invoked by the response-topic IoT rules with what their SQL selects. */
export const build = (deps: Deps) => invokedHandler(deps, (event: unknown) => recordDeviceResponse(deps, event));

export const handler = lambda(build);
