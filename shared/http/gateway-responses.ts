import type { ErrorCode } from '../errors.ts';

/**
 * The answers the API gives before any handler runs (CONTRACT.md §1: every error body is
 * `{"error_code","error_msg"}`). One list for both runtimes: infra/ turns each entry into an API Gateway
 * gateway response, and the local runtime answers the same situations the same way.
 * Messages are plain text: API Gateway puts them in a VTL template, where `$` and `#` would be parsed.
 */
export const GATEWAY_RESPONSES = {
  /** TOKEN authorizer said "Unauthorized", or X-Auth-Token is missing. */
  unauthorized: {
    status: 401,
    code: 'IOTDA.000002',
    message: 'Authentication failed: missing or unknown X-Auth-Token.',
  },
  /** The token's policy does not cover this project. */
  accessDenied: { status: 403, code: 'IOTDA.000021', message: 'The token does not grant access to this project.' },
  /** What API Gateway answers for an unknown route or method. */
  missingAuthenticationToken: { status: 404, code: 'DOWNLINK.404000', message: 'No such resource or method.' },
  /** Any other client error found before a handler ran. On AWS the gateway keeps its own 4xx status. */
  default4xx: { status: 400, code: 'IOTDA.000008', message: 'Malformed request.' },
  /** Any other server error found before or around a handler. On AWS the gateway keeps its own 5xx status. */
  default5xx: { status: 500, code: 'DOWNLINK.500000', message: 'Internal error.' },
  throttled: { status: 429, code: 'IOTDA.021101', message: 'Too many requests.' },
  requestTooLarge: { status: 413, code: 'DOWNLINK.413001', message: 'Payload over the limit.' },
} as const satisfies Record<string, { status: number; code: ErrorCode; message: string }>;

export type GatewayResponseName = keyof typeof GATEWAY_RESPONSES;
