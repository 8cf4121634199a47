/**
 * The one error type that reaches an API response. Everything else is a 500 that reveals nothing.
 * Codes follow CONTRACT.md §1: Huawei's where confirmed, DOWNLINK.* where we had to choose.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const errors = {
  unauthenticated: () => new ApiError(401, 'IOTDA.000002', 'Authentication failed: missing or unknown X-Auth-Token.'),
  forbiddenProject: () => new ApiError(403, 'IOTDA.000021', 'The token does not grant access to this project.'),
  malformed: (why: string) => new ApiError(400, 'IOTDA.000008', `Malformed request: ${why}`),
  invalid: (field: string, why: string) => new ApiError(400, 'IOTDA.000006', `Invalid input: ${field} ${why}`),
  deviceNotFound: (deviceId: string) => new ApiError(404, 'IOTDA.014000', `The device does not exist: ${deviceId}`),
  deviceExists: (deviceId: string) => new ApiError(409, 'IOTDA.014031', `The device already exists: ${deviceId}`),
  productNotFound: (productId: string) =>
    new ApiError(404, 'DOWNLINK.404003', `The product does not exist: ${productId}`),
  productExists: (productId: string) =>
    new ApiError(409, 'DOWNLINK.409004', `The product already exists: ${productId}`),
  productInUse: (productId: string) =>
    new ApiError(409, 'DOWNLINK.409003', `The product is used by devices and cannot be deleted: ${productId}`),
  routingRuleNotFound: (ruleId: string) =>
    new ApiError(404, 'DOWNLINK.404004', `The routing rule does not exist: ${ruleId}`),
  routingActionNotFound: (actionId: string) =>
    new ApiError(404, 'DOWNLINK.404005', `The rule action does not exist: ${actionId}`),
  routeNotFound: () => new ApiError(404, 'DOWNLINK.404000', 'No such resource or method.'),
  payloadTooLarge: (limit: string) => new ApiError(413, 'DOWNLINK.413001', `Payload over the limit of ${limit}.`),
  internal: () => new ApiError(500, 'DOWNLINK.500000', 'Internal error.'),
} as const;

export interface ErrorBody {
  error_code: string;
  error_msg: string;
}

export const errorBody = (e: ApiError): ErrorBody => ({ error_code: e.code, error_msg: e.message });

/** Thrown by stores when a conditional write loses; use cases decide what it means. */
export class ConditionFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConditionFailedError';
  }
}
