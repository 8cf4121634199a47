import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationEnvelope } from '../shared/domain/notifications.ts';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, verifyPushSignature } from '../shared/domain/push-delivery.ts';

export interface ReceivedPush {
  path: string;
  envelope: NotificationEnvelope;
  /** The raw body, as signed. */
  body: string;
  headers: IncomingHttpHeaders;
  /** 'ok' or 'bad' when the receiver has a token; 'unchecked' without. */
  signature: 'ok' | 'bad' | 'unchecked';
  /** What this receiver answered. */
  answered: number;
  at: number;
}

export interface ReceiverOptions {
  host?: string;
  port?: number;
  /** Checks each push's X-Downlink-Signature with this token (CONTRACT.md §7). */
  token?: string;
  /** Answers 500 to the first `fail` pushes, then 200. */
  fail?: number;
  /** Never answers (a receiver that hangs). */
  hang?: boolean;
  onPush?: (push: ReceivedPush) => void;
}

/** An application's HTTP push endpoint: accepts each POST, checks its signature, answers 200 (or as told). */
export const startPushReceiver = async (opts: ReceiverOptions = {}) => {
  let failuresLeft = opts.fail ?? 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (opts.hang) return;
      const body = Buffer.concat(chunks).toString('utf8');
      let envelope: NotificationEnvelope;
      try {
        envelope = JSON.parse(body) as NotificationEnvelope;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const header = (name: string) => req.headers[name] as string | undefined;
      const signature = opts.token
        ? verifyPushSignature(opts.token, header(PUSH_TIMESTAMP_HEADER), body, header(PUSH_SIGNATURE_HEADER))
          ? 'ok'
          : 'bad'
        : 'unchecked';
      const answered = signature === 'bad' ? 401 : failuresLeft > 0 ? 500 : 200;
      if (answered === 500) failuresLeft--;
      opts.onPush?.({
        path: req.url ?? '/',
        envelope,
        body,
        headers: req.headers,
        signature,
        answered,
        at: Date.now(),
      });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'refused');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    /** Answers 500 to the next `n` pushes. */
    failNext: (n: number) => void (failuresLeft = n),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
