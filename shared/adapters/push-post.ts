import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { forbiddenAddress } from '../domain/push-url.ts';

/** CONTRACT.md §7: success is a 2xx within 15 s. */
export const PUSH_TIMEOUT_MS = 15_000;

export type PushOutcome = { ok: true; status: number } | { ok: false; error: string };

/**
 * Refuses, at connect time, an address checkPushUrl would refuse: the check before the send reads DNS once,
 * and a name could resolve differently a moment later (DNS rebinding).
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) =>
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const refused = addresses.map((a) => forbiddenAddress(a.address)).find(Boolean);
    if (refused) return callback(new Error(`refused: ${refused}`), '', 0);
    if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });

// Kept-alive connections: a receiver gets many pushes, and a new TLS handshake each would cost more than the POST.
const agentOptions = { keepAlive: true, maxSockets: 256 };
const agents = {
  open: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
  publicOnly: {
    http: new http.Agent({ ...agentOptions, lookup: publicOnlyLookup } as http.AgentOptions),
    https: new https.Agent({ ...agentOptions, lookup: publicOnlyLookup } as https.AgentOptions),
  },
};

/**
 * POSTs one push. Redirects are not followed (a 3xx is a failure: following one could reach an address the
 * URL check refused); the whole exchange, body included, must end within `timeoutMs`.
 */
export const postPush = (
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { allowPrivate: boolean; timeoutMs?: number },
): Promise<PushOutcome> =>
  new Promise((resolve) => {
    const timeoutMs = opts.timeoutMs ?? PUSH_TIMEOUT_MS;
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const agent = (opts.allowPrivate ? agents.open : agents.publicOnly)[secure ? 'https' : 'http'];
    const req = (secure ? https : http).request(target, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'downlink-push',
        ...headers,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.on('error', () => undefined);
      res.on('end', () =>
        resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` }),
      );
      // After 'end' this changes nothing; without it (timed out or cut mid-answer) it is the outcome.
      res.on('close', () =>
        resolve({ ok: false, error: `HTTP ${status}, answer not finished within ${timeoutMs} ms` }),
      );
      res.resume(); // the receiver's answer body means nothing to us
    });
    req.on('error', (e: Error) =>
      resolve({ ok: false, error: e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : e.message }),
    );
    req.end(body);
  });
