import type { Aedes, Client } from 'aedes';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from './net.ts';

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

// aedes keeps its connected clients by id; its type declarations leave the map out.
const connectedClients = (broker: Aedes) =>
  (broker as unknown as { clients: Record<string, Client | undefined> }).clients;

/**
 * The iot-data `Publish` (POST /topics/{topic}?qos=) and `DeleteConnection` (DELETE /connections/{clientId})
 * calls at the wire, so the handlers' own IoT data-plane client drives the local broker as it does IoT Core.
 */
export const startIotDataEndpoint = async (host: string, broker: Aedes, onError: (e: unknown) => void) => {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'DELETE' && url.pathname.startsWith('/connections/')) {
      const client = connectedClients(broker)[decodeURIComponent(url.pathname.slice('/connections/'.length))];
      if (!client) {
        res.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
        return reply(404, { message: 'No connection found for this client id' });
      }
      client.close();
      return reply(200, {});
    }
    if (req.method !== 'POST' || !url.pathname.startsWith('/topics/')) return reply(404, { message: 'not found' });
    const topic = decodeURIComponent(url.pathname.slice('/topics/'.length));
    const qos = url.searchParams.get('qos') === '1' ? 1 : 0;
    readBody(req)
      .then(
        (payload) =>
          new Promise<void>((resolve, reject) =>
            broker.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (e) =>
              e ? reject(e) : resolve(),
            ),
          ),
      )
      .then(
        () => reply(200, {}),
        (e: unknown) => {
          onError(e);
          reply(500, { message: 'publish failed' });
        },
      );
  });
  server.keepAliveTimeout = 60_000;
  await listen(server, 0, host);
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
