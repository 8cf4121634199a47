import { Aedes } from 'aedes';
import { createServer, type AddressInfo } from 'node:net';

/**
 * The baseline for bench/connections.ts: aedes with no hooks (no sign-in, no ACL, no lifecycle events) in
 * a process of its own, so its memory is measured from a clean start. Answers `usage` with its RSS and CPU.
 */
const broker = await Aedes.createBroker();
const server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));

process.on('message', (msg: { type: 'usage' | 'stop' }) => {
  if (msg.type === 'stop') return broker.close(() => process.exit(0));
  const cpu = process.cpuUsage();
  process.send!({ type: 'usage', rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
});
process.on('disconnect', () => process.exit(0));
