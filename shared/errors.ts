/**
 * The error catalogue (CONTRACT.md §1, docs/api.md "Errors"): every code the API, its gateway responses and
 * its notifications answer with. Huawei's where confirmed, DOWNLINK.* where we had to choose.
 */
export type ErrorCode =
  | 'IOTDA.000002' // authentication failed
  | 'IOTDA.000006' // invalid input
  | 'IOTDA.000008' // malformed request
  | 'IOTDA.000021' // project not granted
  | 'IOTDA.014000' // unknown device
  | 'IOTDA.014016' // device not online
  | 'IOTDA.014031' // device exists
  | 'IOTDA.014111' // device did not answer in time (a 200, not an ApiError)
  | 'IOTDA.021101' // throttled (API Gateway)
  | 'DOWNLINK.404000' // unknown route or method (API Gateway)
  | 'DOWNLINK.404001' // unknown message
  | 'DOWNLINK.404002' // unknown batch task
  | 'DOWNLINK.404003' // unknown product; a batch sub-task's target the task does not have
  | 'DOWNLINK.404004' // unknown routing rule
  | 'DOWNLINK.404005' // unknown rule action
  | 'DOWNLINK.409001' // message id used before
  | 'DOWNLINK.409002' // batch task or sub-task status does not allow it
  | 'DOWNLINK.409003' // product in use
  | 'DOWNLINK.409004' // product exists
  | 'DOWNLINK.410001' // message pushed out of the history undelivered
  | 'DOWNLINK.413001' // payload over the limit
  | 'DOWNLINK.500000'; // internal error

/** A code and its text, as a response body or a message's error_info carries them. */
export interface ErrorBody {
  error_code: ErrorCode;
  error_msg: string;
}

type Options = { cause?: unknown };

/** The one error type that reaches an API response. Everything else is a 500 that reveals nothing. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;

  constructor(status: number, code: ErrorCode, message: string, options?: Options) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The one place API errors are made; each takes the error that led to it, if any, as its `cause`. */
export const errors = {
  unauthenticated: (o?: Options) =>
    new ApiError(401, 'IOTDA.000002', 'Authentication failed: missing or unknown X-Auth-Token.', o),
  forbiddenProject: (o?: Options) =>
    new ApiError(403, 'IOTDA.000021', 'The token does not grant access to this project.', o),
  malformed: (why: string, o?: Options) => new ApiError(400, 'IOTDA.000008', `Malformed request: ${why}`, o),
  invalid: (field: string, why: string, o?: Options) =>
    new ApiError(400, 'IOTDA.000006', `Invalid input: ${field} ${why}`, o),
  deviceNotFound: (deviceId: string, o?: Options) =>
    new ApiError(404, 'IOTDA.014000', `The device does not exist: ${deviceId}`, o),
  deviceExists: (deviceId: string, o?: Options) =>
    new ApiError(409, 'IOTDA.014031', `The device already exists: ${deviceId}`, o),
  // IoTDA §2.1: a command or property call to a device that is not online is refused, not queued.
  deviceOffline: (deviceId: string, o?: Options) =>
    new ApiError(403, 'IOTDA.014016', `Operation not allowed. The device is not online: ${deviceId}`, o),
  messageNotFound: (messageId: string, o?: Options) =>
    new ApiError(404, 'DOWNLINK.404001', `The device has no message with id ${messageId}.`, o),
  messageExists: (messageId: string, o?: Options) =>
    new ApiError(409, 'DOWNLINK.409001', `The device already has a message with id ${messageId}.`, o),
  batchTaskNotFound: (taskId: string, o?: Options) =>
    new ApiError(404, 'DOWNLINK.404002', `The batch task does not exist: ${taskId}`, o),
  batchTaskWrongState: (status: string, action: string, o?: Options) =>
    new ApiError(409, 'DOWNLINK.409002', `The batch task is ${status}: it cannot be ${action}.`, o),
  productNotFound: (productId: string, o?: Options) =>
    new ApiError(404, 'DOWNLINK.404003', `The product does not exist: ${productId}`, o),
  productExists: (productId: string, o?: Options) =>
    new ApiError(409, 'DOWNLINK.409004', `The product already exists: ${productId}`, o),
  productInUse: (productId: string, o?: Options) =>
    new ApiError(409, 'DOWNLINK.409003', `The product is used by devices and cannot be deleted: ${productId}`, o),
  routingRuleNotFound: (ruleId: string, o?: Options) =>
    new ApiError(404, 'DOWNLINK.404004', `The routing rule does not exist: ${ruleId}`, o),
  routingActionNotFound: (actionId: string, o?: Options) =>
    new ApiError(404, 'DOWNLINK.404005', `The rule action does not exist: ${actionId}`, o),
  payloadTooLarge: (limit: string, o?: Options) =>
    new ApiError(413, 'DOWNLINK.413001', `Payload over the limit of ${limit}.`, o),
  internal: (o?: Options) => new ApiError(500, 'DOWNLINK.500000', 'Internal error.', o),
} as const;

export const errorBody = (e: ApiError): ErrorBody => ({ error_code: e.code, error_msg: e.message });
