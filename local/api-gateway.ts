import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiPolicy } from '../shared/domain/api-tokens.ts';
import { GATEWAY_RESPONSES, type GatewayResponseName } from '../shared/http/gateway-responses.ts';
import { lambdaContext } from './lambda-context.ts';
import { listen } from './net.ts';
import { localArn } from '../shared/aws-names.ts';

export interface HttpRoute {
  method: string;
  path: string; // API Gateway resource path, e.g. /v5/iot/{project_id}/devices/{device_id}
  functionName: string;
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
}

type Authorizer = (
  event: APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<ApiPolicy>;

// What API Gateway allows a REST request body.
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const ARN_BASE = localArn('execute-api', 'downlink/local');

interface CompiledRoute extends HttpRoute {
  pattern: RegExp;
  names: string[];
}

const compile = (route: HttpRoute): CompiledRoute => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}$`), names };
};

/** IAM-style resource match: `*` stands for any run of characters. */
const resourceMatches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(arn);

const allows = (policy: ApiPolicy, arn: string): boolean => {
  const matching = policy.policyDocument.Statement.filter((s) => s.Resource.some((r) => resourceMatches(r, arn)));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
};

const send = (res: ServerResponse, requestId: string, result: APIGatewayProxyResult) => {
  const headers = { ...(result.headers as Record<string, string> | undefined), 'X-Request-Id': requestId };
  res.writeHead(result.statusCode, headers).end(result.body);
};

const gatewayResponse = (def: (typeof GATEWAY_RESPONSES)[GatewayResponseName]): APIGatewayProxyResult => ({
  statusCode: def.status,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ error_code: def.code, error_msg: def.message }),
});

/**
 * Reads the body up to API Gateway's limit; a chunked body is cut off as soon as it passes it, so no one
 * can make the gateway hold more than the limit. 'gone' when the client closed the request first.
 */
const readBody = (req: IncomingMessage): Promise<Buffer | 'too-large' | 'gone'> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData).pause();
      resolve('too-large');
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // The client went away mid-body (an 'error' with ECONNRESET, then 'close'), maybe before this read began.
    req.on('error', () => resolve('gone'));
    req.on('close', () => resolve('gone'));
    if (req.destroyed) resolve('gone');
  });

/** A path parameter as API Gateway hands it on: percent-decoded once; undefined when the encoding is malformed. */
const decodeParam = (raw: string): string | undefined => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
};

/** Thrown out of `handle` when there is no one left to answer: not an error of ours. */
class ClientGoneError extends Error {}

/**
 * API Gateway's REST proxy, locally: routes from the manifest, the TOKEN authorizer and its policy on
 * X-Auth-Token, the gateway responses of shared/http/gateway-responses.ts, and proxy events for the handlers.
 */
export const startApiGateway = async (opts: {
  host: string;
  port: number;
  routes: HttpRoute[];
  authorizer: Authorizer;
  /** How long the authorizer's answer for a token is reused, as API Gateway caches it; 0 asks every time. */
  authorizerCacheMs: number;
  onError: (e: unknown) => void;
  /** A client that closed its request before the answer: worth a debug line at most. */
  onClientGone: (e: unknown) => void;
  /** Static pages served at `base` and below, before any route or token check (the console at /console). */
  site?: { base: string; serve: (req: IncomingMessage, res: ServerResponse, notFound: () => void) => void };
}) => {
  const routes = opts.routes.map(compile);
  // API Gateway caches an authorizer's policy (or its 401) per token for the configured time.
  const cache = new Map<string, { until: number; policy: ApiPolicy | 'unauthorized' }>();
  const ask = async (event: Parameters<Authorizer>[0]): Promise<ApiPolicy | 'unauthorized'> => {
    try {
      return await opts.authorizer(event, lambdaContext('api-authorizer'));
    } catch (e) {
      if ((e as Error).message !== 'Unauthorized') throw e;
      return 'unauthorized';
    }
  };
  const authorize = async (token: string, methodArn: string): Promise<ApiPolicy | 'unauthorized'> => {
    const hit = cache.get(token);
    if (hit && hit.until > Date.now()) return hit.policy;
    const policy = await ask({ type: 'TOKEN', authorizationToken: token, methodArn });
    if (opts.authorizerCacheMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(token, { until: Date.now() + opts.authorizerCacheMs, policy });
    }
    return policy;
  };

  const handle = async (req: IncomingMessage, requestId: string): Promise<APIGatewayProxyResult> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    let raw: string[] | undefined;
    const route = routes.find((r) => {
      if (r.method !== method) return false;
      raw = r.pattern.exec(url.pathname)?.slice(1);
      return raw !== undefined;
    });
    if (!route || !raw) return gatewayResponse(GATEWAY_RESPONSES.missingAuthenticationToken);
    // API Gateway refuses a path with a malformed percent-encoding (`%`, `%E0%A4%A`) with a 400 of its own,
    // before any authorizer runs.
    const values = raw.map(decodeParam);
    if (values.some((v) => v === undefined)) return gatewayResponse(GATEWAY_RESPONSES.default4xx);
    const params = Object.fromEntries(route.names.map((n, i) => [n, values[i]!]));

    // Refused before a byte of the body is read: too large by its own Content-Length, or no token at all.
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES)
      return gatewayResponse(GATEWAY_RESPONSES.requestTooLarge);
    const token = req.headers['x-auth-token'];
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    const methodArn = `${ARN_BASE}/${method}${url.pathname}`;
    let policy: ApiPolicy | 'unauthorized';
    if (typeof token === 'string' && token !== '') policy = await authorize(token, methodArn);
    // No token: an AK/SK signature (CONTRACT.md §6), asked of the authorizer every time (no cache per signature).
    else if (headers.authorization)
      policy = await ask({ type: 'REQUEST', methodArn, headers } as unknown as APIGatewayRequestAuthorizerEvent);
    else return gatewayResponse(GATEWAY_RESPONSES.unauthorized);
    if (policy === 'unauthorized') return gatewayResponse(GATEWAY_RESPONSES.unauthorized);
    if (!allows(policy, methodArn)) return gatewayResponse(GATEWAY_RESPONSES.accessDenied);

    const body = await readBody(req);
    if (body === 'gone') throw new ClientGoneError('the client closed the request before its body ended');
    if (body === 'too-large') return gatewayResponse(GATEWAY_RESPONSES.requestTooLarge);

    const query = Object.fromEntries(url.searchParams);
    const event = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders: {},
      queryStringParameters: Object.keys(query).length ? query : null,
      multiValueQueryStringParameters: Object.keys(query).length
        ? Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]))
        : null,
      pathParameters: params,
      stageVariables: null,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: {
        requestId,
        resourcePath: route.path,
        httpMethod: method,
        path: `/local${url.pathname}`,
        stage: 'local',
        authorizer: { principalId: policy.principalId, ...policy.context },
        identity: { sourceIp: req.socket.remoteAddress ?? '' },
      },
    } as unknown as APIGatewayProxyEvent;
    return route.handler(event, lambdaContext(route.functionName, 29_000));
  };

  // Requests being handled: a stop waits for them, then closes every connection (a client may keep one
  // open that the server no longer counts as idle, such as one whose request it aborted).
  let inFlight = 0;
  let stopping = false;
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    const site = opts.site;
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (
      site &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      (path === site.base || path.startsWith(`${site.base}/`))
    )
      return site.serve(req, res, () =>
        send(res, requestId, gatewayResponse(GATEWAY_RESPONSES.missingAuthenticationToken)),
      );
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (stopping && inFlight === 0) server.closeAllConnections();
    });
    // A client that hung up (mid-body, or while a sync command waited for its device) is not our error.
    const gone = () => res.destroyed || req.socket.destroyed;
    const answer = (result: APIGatewayProxyResult) => {
      if (gone())
        return opts.onClientGone(
          new ClientGoneError(`the client closed the connection before the answer (${req.method} ${req.url})`),
        );
      // An answer given before the body was read closes the connection, so the rest is never read.
      send(res, requestId, req.complete ? result : { ...result, headers: { ...result.headers, Connection: 'close' } });
    };
    handle(req, requestId).then(answer, (e: unknown) => {
      if (e instanceof ClientGoneError || gone()) return opts.onClientGone(e);
      opts.onError(e);
      answer(gatewayResponse(GATEWAY_RESPONSES.default5xx));
    });
  });
  // A request Node cannot parse (a bad header, a broken chunk) gets the contract's body too, not Node's bare 400.
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    if (e.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const def =
      e.code === 'HPE_HEADER_OVERFLOW'
        ? { ...GATEWAY_RESPONSES.default4xx, status: 431 }
        : GATEWAY_RESPONSES.default4xx;
    const body = JSON.stringify({ error_code: def.code, error_msg: def.message });
    const reason = def.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${def.status} ${reason}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${randomUUID()}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
  server.keepAliveTimeout = 65_000;
  await listen(server, opts.port, opts.host);
  return {
    url: `http://${opts.host}:${(server.address() as AddressInfo).port}`,
    /** Stops accepting, lets requests in flight finish. */
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        server.close(() => resolve());
        if (inFlight === 0) server.closeAllConnections();
      }),
  };
};
