import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../ports/deps.ts';
import { ApiError, errorBody, errors } from '../errors.ts';
import { handlerStack, type LambdaHandler } from '../handler-stack.ts';
import { rejectUnstorableJson } from '../validation.ts';
import { signedRequestCheck } from './signed-request-check.ts';

/** The ports every API handler uses: a logger for the 500s, the key store for AK/SK signatures. */
export type ApiHandlerDeps = Pick<Deps, 'logger' | 'tokens' | 'clock' | 'telemetry'>;

/** What an API use case sees of a request: the route's parameters and the body, parsed on demand. */
export interface ApiRequest {
  project: string;
  params: Record<string, string>;
  query: Record<string, string>;
  requestId: string;
  /** The JSON body; IOTDA.000008 when it is not JSON or not sent as JSON. */
  json(): unknown;
  /** The JSON body, or `{}` when there is none (bodies that IoTDA makes optional). */
  optionalJson(): unknown;
}

export interface ApiResult {
  status: number;
  body?: unknown;
}

const jsonResponse = (status: number, requestId: string, body?: unknown): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId },
  body: body === undefined ? '' : JSON.stringify(body),
});

const parseJsonBody = (event: APIGatewayProxyEvent): unknown => {
  const type = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw errors.malformed('Content-Type must be application/json');
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw errors.malformed('the body is not valid JSON', { cause });
  }
  // Checked here, where every body is parsed, so a number or a nesting behaves the same on every route.
  rejectUnstorableJson(body);
  return body;
};

const toRequest = (event: APIGatewayProxyEvent): ApiRequest => {
  const params = (event.pathParameters ?? {}) as Record<string, string>;
  let body: { value: unknown } | undefined;
  return {
    project: params.project_id ?? '',
    params,
    query: (event.queryStringParameters ?? {}) as Record<string, string>,
    requestId: event.requestContext.requestId,
    json: () => (body ??= { value: parseJsonBody(event) }).value,
    optionalJson: () => (event.body ? (body ??= { value: parseJsonBody(event) }).value : {}),
  };
};

/** Turns any error into the contract's error body, in this one place; unknown errors say nothing. */
const contractErrors = (deps: ApiHandlerDeps): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const requestId = request.event.requestContext.requestId;
    let e = request.error;
    if (!(e instanceof ApiError)) {
      deps.logger.error('unhandled error', { requestId, error: e as Error });
      e = errors.internal();
    }
    request.response = jsonResponse((e as ApiError).status, requestId, errorBody(e as ApiError));
  },
});

export type ApiHandler = LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** The API handlers' stack: the common one (handler-stack.ts), the contract's error bodies, signed requests. */
export const apiHandler = (deps: ApiHandlerDeps, route: (req: ApiRequest) => Promise<ApiResult>): ApiHandler =>
  handlerStack<APIGatewayProxyEvent, APIGatewayProxyResult>(deps.telemetry, (event) => event.requestContext.requestId)
    .use(contractErrors(deps))
    .use(signedRequestCheck(deps))
    .handler(async (event) => {
      const result = await route(toRequest(event));
      return jsonResponse(result.status, event.requestContext.requestId, result.body);
    });
