import type { EventEmitter } from 'node:events';
import type { RequestListener } from 'node:http';
import { inject } from 'light-my-request';
import pLimit from 'p-limit';
import type { Worker } from 'node:worker_threads';
import { MAX_SOCKETS, serveInProcess } from '../shared/adapters/aws/client-options.ts';

/**
 * The SDK clients of the local runtime reach its emulators without a socket: each request the SDK has built
 * and signed is handed to the emulator's own HTTP request handler (light-my-request builds the request and
 * response objects), and its answer goes back to the SDK as the wire would have brought it. The handlers,
 * adapters, SDK middleware and emulators stay the same; only loopback TCP and HTTP parsing are gone, which were
 * about a quarter of the runtime's CPU (docs/decisions.md, "The local runtime's transport").
 */

/** What the SDK hands its request handler (@smithy HttpRequest), as far as an emulator needs it. */
interface SdkRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** A request as plain data, for inject or for a worker thread. */
interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

interface WireResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const queryString = (query: SdkRequest['query']) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, one ?? '');
  const s = params.toString();
  return s ? `?${s}` : '';
};

// The SDK's bodies: bytes (its JSON in a Uint8Array subclass, iot-data's payload) or a string. light-my-request
// sends a Buffer as bytes but would serialise any other Uint8Array as a JSON object.
const payloadOf = (body: unknown): string | Buffer | undefined => {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string' || body instanceof String) return String(body);
  if (body !== undefined && body !== null) throw new Error('a request body the in-process transport cannot send');
  return undefined;
};

const toWire = (r: SdkRequest): WireRequest => {
  const payload = payloadOf(r.body);
  return {
    method: r.method,
    url: `${r.path}${queryString(r.query)}`,
    headers: r.headers,
    ...(payload === undefined ? {} : { payload }),
  };
};

/** Runs one request through a Node request listener, in this thread. */
const injectInto = async (listener: RequestListener, request: WireRequest): Promise<WireResponse> => {
  const res = await inject(listener, request);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
  return { statusCode: res.statusCode, headers, body: res.rawPayload };
};

const aborted = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });

/**
 * The most requests an emulator works on at once, as the SDK's HTTP agent had sockets (MAX_SOCKETS); the rest
 * wait here as data. Unbounded, a batch's 4,000 sub-tasks had as many requests half-handled in dynalite's thread
 * at once, each with its request and response objects and its buffers (docs/decisions.md, "Resident memory").
 */
export const MAX_IN_FLIGHT = MAX_SOCKETS;

/**
 * The SDK request handler that sends each request to `dispatch` instead of a socket, at most MAX_IN_FLIGHT at
 * once. A request whose `abortSignal` fires (a poller stopping its long poll) is answered with an AbortError at
 * once, as the SDK's own handler does; the emulator's late answer is dropped, and one still waiting for its
 * turn is not sent.
 */
const requestHandler = (dispatch: (r: WireRequest) => Promise<WireResponse>) => {
  const limit = pLimit(MAX_IN_FLIGHT);
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    handle: (request: SdkRequest, options?: { abortSignal?: AbortSignal }) => {
      const signal = options?.abortSignal;
      if (signal?.aborted) return Promise.reject(aborted());
      const wire = toWire(request);
      const send = () => (signal?.aborted ? Promise.reject(aborted()) : dispatch(wire));
      const answer = limit(send).then((response) => ({ response }));
      if (!signal) return answer;
      return new Promise<{ response: WireResponse }>((resolve, reject) => {
        const onAbort = () => reject(aborted());
        signal.addEventListener('abort', onAbort, { once: true });
        answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };
};

const listenerOf = (server: EventEmitter) => {
  const [listener] = server.listeners('request') as RequestListener[];
  if (!listener) throw new Error('the emulator has no request listener');
  return listener;
};

/** Clients of `endpoint` reach this server's handler in-process; returns the undo. */
export const serveServerInProcess = (endpoint: string, server: EventEmitter) => {
  const listener = listenerOf(server);
  return serveInProcess(
    endpoint,
    requestHandler((r) => injectInto(listener, r)),
  );
};

/**
 * Clients of `endpoint` reach a server on a worker thread through messages: what is asked in one turn of the
 * event loop goes as one message of `{ id, request }` entries, and the worker answers with `{ id, response }`
 * entries in the same way (local/dynamodb-thread.mjs): each message between threads costs far more than its
 * size. Returns the undo, after which requests fail at once instead of waiting on a thread that is stopping.
 */
export const serveWorkerInProcess = (endpoint: string, worker: Worker) => {
  let next = 0;
  let closed = false;
  let outgoing: { id: number; request: WireRequest }[] = [];
  const waiting = new Map<number, { resolve: (r: WireResponse) => void; reject: (e: Error) => void }>();
  const answered = (m: { answers?: { id: number; response: WireResponse }[] }) => {
    for (const { id, response } of m.answers ?? []) {
      waiting.get(id)?.resolve(response);
      waiting.delete(id);
    }
  };
  worker.on('message', answered);
  // A thread that dies answers nothing more: what waits on it fails now.
  const failAll = (why: string) => {
    for (const { reject } of waiting.values()) reject(new Error(why));
    waiting.clear();
  };
  const died = () => {
    closed = true;
    failAll('the emulator thread ended');
  };
  worker.once('exit', died);
  const flush = () => {
    const requests = outgoing;
    outgoing = [];
    worker.postMessage({ requests });
  };
  const undo = serveInProcess(
    endpoint,
    requestHandler(
      (request) =>
        new Promise<WireResponse>((resolve, reject) => {
          if (closed) return reject(new Error('the emulator has stopped'));
          const id = next++;
          waiting.set(id, { resolve, reject });
          // Bytes of their own: a posted view clones its whole ArrayBuffer, often far larger than the body.
          const { payload } = request;
          const posted = payload instanceof Uint8Array ? { ...request, payload: new Uint8Array(payload) } : request;
          if (outgoing.push({ id, request: posted as WireRequest }) === 1) setImmediate(flush);
        }),
    ),
  );
  return () => {
    closed = true;
    undo();
    worker.off('message', answered);
    worker.off('exit', died);
    failAll('the emulator has stopped');
  };
};
